{{#config}}
def greeting() -> bytes:
    """The configuration value `greeting` (`wasi:config/store`), or the default greeting when
    the host has none."""
    try:
        value = config.get("greeting")
    except Err:
        value = None
    return b"Hello from Python!\n" if value is None else f"{value}\n".encode()
{{/config}}
{{#keyvalue}}
{{#config}}


{{/config}}
# The `wasi:keyvalue` bucket `/visits` counts in, by the name the host grants it under.
BUCKET = "default"


def visits() -> tuple[int, bytes]:
    """Counts the requests to `/visits` under the key `visits` of `BUCKET`: the status and
    text of the answer. The increment is atomic: requests served at once each get their own
    count."""
    try:
        with keyvalue.open(BUCKET) as bucket:
            count = atomics.increment(bucket, "visits", 1)
    except Err as err:
        # Such as a bucket the host does not grant.
        return 503, f"cannot count visits: {err.value}\n".encode()
    return 200, f"{count} visits\n".encode()
{{/keyvalue}}
