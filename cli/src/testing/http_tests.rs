//! HTTP smoke tests: each request goes to a fresh instance of the component through the same
//! handler `wcomp serve` uses (sandbox, limits, status codes), in-process, with no socket.

use std::path::Path;
use std::time::{Duration, Instant};

use super::case::{Failure, HttpCase, TestCase, TestOptions, TestResult};
use crate::runtime::{Events, Services, cache::CacheMode};
use crate::serve::{Admission, Answer, InProcess, ReuseChoice, ServeOptions, ServeSettings};

/// Runs every HTTP case against the component at `component`.
pub fn run(
    component: &Path,
    cases: &[&TestCase],
    options: &TestOptions,
    services: &Services,
) -> Vec<TestResult> {
    let serve = ServeOptions {
        component: component.to_owned(),
        settings: ServeSettings {
            addr: ([127, 0, 0, 1], 0).into(),
            sandbox: options.sandbox.clone(),
            http: options.http.clone(),
            limits: options.limits,
            admission: Admission {
                max_concurrency: 4,
                queue: 16,
                queue_timeout: Duration::from_secs(30),
                max_body: 10 << 20,
            },
            // Every case its own instance, whatever the handler's WASI version.
            reuse: ReuseChoice {
                requests: Some(1),
                concurrent: None,
            },
            header_timeout: Duration::from_secs(10),
            max_connections: None,
            metrics: None,
            drain: Duration::from_secs(1),
        },
        cache: match &options.cache {
            CacheMode::Dir(dir) => CacheMode::Dir(dir.clone()),
            CacheMode::Disabled => CacheMode::Disabled,
        },
        events: Events::default(),
        services: Some(services.clone()),
    };
    let server = match InProcess::new(&serve) {
        Ok(server) => server,
        Err(err) => {
            let message = format!("cannot serve the component: {err:#}");
            return cases
                .iter()
                .map(|case| result(case, Some(failure(&message, None, None)), 0.0, None))
                .collect();
        }
    };
    cases
        .iter()
        .map(|case| {
            let http = case.http.as_ref().expect("only HTTP cases come here");
            let started = Instant::now();
            let failure = match case
                .seed(&services.keyvalue)
                .and_then(|()| request(http).map_err(|message| failure(&message, None, None)))
            {
                Ok(request) => judge(http, &server.request(request))
                    .or_else(|| case.check_kv(&services.keyvalue)),
                Err(failure) => Some(failure),
            };
            result(case, failure, started.elapsed().as_secs_f64(), None)
        })
        .collect()
}

fn result(
    case: &TestCase,
    failure: Option<Failure>,
    seconds: f64,
    answer: Option<&Answer>,
) -> TestResult {
    TestResult {
        name: case.name.clone(),
        failure,
        seconds,
        stdout: answer
            .map(|a| String::from_utf8_lossy(&a.body).into_owned())
            .unwrap_or_default(),
        stderr: String::new(),
    }
}

fn failure(message: &str, expected: Option<String>, actual: Option<String>) -> Failure {
    Failure {
        step: 1,
        invoke: None,
        message: message.to_owned(),
        expected,
        actual,
    }
}

/// The request as an `http::Request` to `http://localhost<path>`.
fn request(case: &HttpCase) -> Result<http::Request<bytes::Bytes>, String> {
    let mut builder = http::Request::builder()
        .method(case.method.as_str())
        .uri(format!("http://localhost{}", case.path));
    for (name, value) in &case.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    builder
        .body(bytes::Bytes::from(case.body.clone()))
        .map_err(|err| format!("the request cannot be made: {err}"))
}

/// What is wrong with `answer`, if anything, checked in order: status, headers, body.
fn judge(case: &HttpCase, answer: &Answer) -> Option<Failure> {
    let body = String::from_utf8_lossy(&answer.body);
    let expected_status = case.expect_status.unwrap_or(200);
    if answer.status != expected_status {
        return Some(failure(
            "the status differs",
            Some(expected_status.to_string()),
            Some(format!("{} ({})", answer.status, body.trim_end())),
        ));
    }
    for (name, value) in &case.expect_headers {
        let found = answer
            .headers
            .iter()
            .find(|(header, _)| header.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str());
        if found != Some(value.as_str()) {
            return Some(failure(
                &format!("header `{name}` differs"),
                Some(value.clone()),
                Some(found.unwrap_or("(absent)").to_owned()),
            ));
        }
    }
    if let Some(expected) = &case.expect_body
        && body != *expected
    {
        return Some(failure(
            "the body differs",
            Some(expected.clone()),
            Some(body.into_owned()),
        ));
    }
    if let Some(part) = &case.expect_body_contains
        && !body.contains(part.as_str())
    {
        return Some(failure(
            "the body does not contain the expected text",
            Some(format!("…{part}…")),
            Some(body.into_owned()),
        ));
    }
    None
}
