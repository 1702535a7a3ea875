//! How the demo binaries run outside a terminal conversation: the HTTP front, the Lambda
//! runtime, and their logging.

use skill_builder::Skill;

#[cfg(feature = "http")]
pub(super) async fn serve_http(
    skill: Skill,
    addr: Option<String>,
    verify: bool,
) -> Result<(), Box<dyn std::error::Error>> {
    use skill_builder::http::HttpFront;
    let addr = match addr {
        Some(a) => a.parse()?,
        None => skill_builder::http::DEFAULT_HTTP_ADDR,
    };
    let front = if verify {
        eprintln!(
            "POST Alexa requests to http://{addr}/ (each must carry Alexa's signature; behind an \
             HTTPS proxy for Alexa). Ctrl-C to stop."
        );
        HttpFront::new(skill)
    } else {
        eprintln!(
            "POST requests to http://{addr}/ (--no-verify: NOT checked for Alexa's signature, \
             local development only). Ctrl-C to stop."
        );
        HttpFront::new(skill).skip_verification_for_local_development()
    };
    front.serve(addr).await?;
    Ok(())
}

#[cfg(not(feature = "http"))]
pub(super) async fn serve_http(
    _: Skill,
    _: Option<String>,
    _: bool,
) -> Result<(), Box<dyn std::error::Error>> {
    Err("this binary was built without the `http` feature (cargo run --features http ...)".into())
}

#[cfg(feature = "lambda")]
pub(super) async fn serve_lambda(skill: Skill) -> Result<(), Box<dyn std::error::Error>> {
    skill_builder::lambda::run(skill)
        .await
        .map_err(|e| e as Box<dyn std::error::Error>)
}

#[cfg(not(feature = "lambda"))]
pub(super) async fn serve_lambda(_: Skill) -> Result<(), Box<dyn std::error::Error>> {
    Err(
        "this binary was built without the `lambda` feature (cargo build --features lambda ...)"
            .into(),
    )
}

pub(super) fn init_tracing() {
    // Text on a terminal, JSON when Lambda asks for it (AWS_LAMBDA_LOG_FORMAT), never
    // lambda_runtime's raw-event line; warnings and errors unless RUST_LOG or
    // AWS_LAMBDA_LOG_LEVEL say otherwise.
    let mut settings = skill_builder::logging::Settings::from_env();
    if std::env::var_os("RUST_LOG").is_none() && std::env::var_os("AWS_LAMBDA_LOG_LEVEL").is_none()
    {
        settings.filter = "warn".into();
    }
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let _ = tracing_subscriber::registry()
        .with(skill_builder::logging::layer(&settings))
        .try_init();
}
