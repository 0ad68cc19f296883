"""What `wrk --latency` printed, as numbers: shared by the benchmark scripts here."""

import re


def figures(text):
    """Requests per second, p50 and p99 in milliseconds, requests made, non-2xx answers and
    socket errors (all four kinds together) of one `wrk --latency` run's output."""

    def ms(label):
        m = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)\b", text)
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    total = int(re.search(r"(\d+) requests in", text).group(1))
    failed = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    return {
        "rps": rps,
        "p50": ms("50"),
        "p99": ms("99"),
        "total": total,
        "failed": int(failed.group(1)) if failed else 0,
        "sockets": sum(map(int, sockets.groups())) if sockets else 0,
    }
