//! An HTTP image classifier: `POST /classify` with an image tensor (FP32, little-endian, the
//! model's input shape) answers with the class the model scores highest, as JSON. The model is
//! the host's: `wcomp serve --nn-graph classifier=<model.onnx>` compiles it once, and every
//! request's fresh instance loads it by name.

wit_bindgen::generate!({ world: "imports", path: "../wit", generate_all });

use wasi::nn::errors::{Error as NnError, ErrorCode};
use wasi::nn::graph;
use wasi::nn::tensor::{Tensor, TensorType};
use wstd::http::{Body, Error, Request, Response, StatusCode};

/// The graph the host grants.
const GRAPH: &str = "classifier";

#[wstd::http_server]
async fn main(mut request: Request<Body>) -> Result<Response<Body>, Error> {
    match (request.method().as_str(), request.uri().path()) {
        ("GET", "/") => Ok(Response::new(
            "POST /classify?input=<name>&dims=1,3,224,224 with FP32 little-endian values\n".into(),
        )),
        ("POST", "/classify") => {
            let query = request.uri().query().unwrap_or_default().to_owned();
            let body = request.body_mut().contents().await?.to_vec();
            Ok(match classify(&query, body) {
                Ok((class, score)) => json(
                    StatusCode::OK,
                    format!("{{\"class\":{class},\"score\":{score}}}\n"),
                ),
                Err((status, message)) => json(status, format!("{{\"error\":{message:?}}}\n")),
            })
        }
        _ => Ok(Response::builder()
            .status(StatusCode::NOT_FOUND)
            .body("not found\n".into())?),
    }
}

fn json(status: StatusCode, text: String) -> Response<Body> {
    let mut response = Response::new(text.into());
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert("content-type", "application/json".parse().expect("a header value"));
    response
}

/// The query's `input` (the model's input name) and `dims`, then the model's best class and
/// its score; or the status and message for the client.
fn classify(query: &str, body: Vec<u8>) -> Result<(usize, f32), (StatusCode, String)> {
    let bad = |message: String| (StatusCode::BAD_REQUEST, message);
    let param = |name: &str| {
        query
            .split('&')
            .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
            .ok_or_else(|| bad(format!("the query needs `{name}=`")))
    };
    let input = param("input")?;
    let dims = param("dims")?
        .split(',')
        .map(|d| d.parse::<u32>().map_err(|_| bad(format!("`{d}` is not a dimension"))))
        .collect::<Result<Vec<_>, _>>()?;
    let describe = |error: NnError| {
        let status = match error.code() {
            ErrorCode::InvalidArgument => StatusCode::BAD_REQUEST,
            ErrorCode::NotFound => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        (status, format!("{:?}: {}", error.code(), error.data()))
    };
    let graph = graph::load_by_name(GRAPH).map_err(describe)?;
    let context = graph.init_execution_context().map_err(describe)?;
    let tensor = Tensor::new(&dims, TensorType::Fp32, &body);
    let outputs = context
        .compute(vec![(input.to_owned(), tensor)])
        .map_err(describe)?;
    let (_, scores) = outputs.into_iter().next().ok_or_else(|| bad("no output".into()))?;
    scores
        .data()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .ok_or_else(|| bad("the model gave no scores".into()))
}
