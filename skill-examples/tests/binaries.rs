//! The `cat-facts` and `cafe` binaries: scripted demo, interactive mode, configuration errors,
//! and runs that remember (the SQLite file local runs keep when nothing is configured).

#![allow(clippy::unwrap_used, clippy::panic)] // test helpers outside #[test] functions

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

const PERSISTENCE_VARS: [&str; 9] = [
    "SKILL_PERSISTENCE",
    "DYNAMODB_PERSISTENCE_TABLE_NAME",
    "S3_PERSISTENCE_BUCKET",
    "SQLITE_PERSISTENCE_PATH",
    "ALEXA_SKILL_ID",
    "AWS_LAMBDA_RUNTIME_API",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
];

/// A data directory of its own (for `XDG_DATA_HOME`), so that no run sees another's data.
fn fresh_data_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "binaries-{}",
        &persistence_core::unique_token()[12..]
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn command(bin: &str) -> Command {
    let mut cmd = Command::new(bin);
    for var in PERSISTENCE_VARS {
        cmd.env_remove(var);
    }
    cmd.env("RUST_LOG", "warn");
    // A run of its own unless the test passes XDG_DATA_HOME itself.
    cmd.env("XDG_DATA_HOME", fresh_data_dir());
    cmd
}

fn run(bin: &str, args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Output {
    let mut cmd = command(bin);
    cmd.args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn cat_facts_scripted_demo_runs_to_the_end_on_memory() {
    let out = run(
        env!("CARGO_BIN_EXE_cat-facts"),
        &[],
        "",
        &[("SKILL_PERSISTENCE", "memory")],
    );
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert!(
        stdout.contains("persistent attributes in memory store"),
        "{stdout}"
    );
    assert!(stdout.contains("User:   open cat facts"));
    assert!(stdout.contains("Alexa:  Welcome to Cat Facts!"));
    assert!(
        stdout.contains("stored: {\"facts_index\":0,\"visits\":1}"),
        "{stdout}"
    );
    assert!(stdout.contains("=== Session 2 (user A) ==="));
    assert!(
        stdout.contains(
            "Welcome back to Cat Facts! This is your visit number 2. Last time you heard fact \
             number 7. Would you like to hear fact number 8?"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("stored: {\"facts_index\":7,\"visits\":2}"),
        "{stdout}"
    );
}

#[test]
fn cafe_scripted_demo_plays_the_three_conversations() {
    let out = run(env!("CARGO_BIN_EXE_cafe"), &[], "", &[]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    for line in [
        "Alexa:  Alright! Your coffee will be served soon!",
        "stored: {\"drink\":\"coffee\"}",
        "Alexa:  Got it. I will make your usual coffee!",
        "=== Session 3 (user B) ===",
        "Alexa:  It seems like you are coming to this store for the first time!",
        "Alexa:  Sorry, I don't have latte.",
        "stored: {\"drink\":\"green tea\",\"size\":\"large\"}",
    ] {
        assert!(stdout.contains(line), "missing {line:?} in\n{stdout}");
    }
}

#[test]
fn interactive_mode_maps_typed_lines_to_intents() {
    let out = run(
        env!("CARGO_BIN_EXE_cafe"),
        &["--interactive", "--user", "amzn1.ask.account.PIPED"],
        "I'll have my usual\na large latte\na large coffee\nopen persistent cafe\nI'll have my usual\nquit\nnever read\n",
        &[],
    );
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    let expected = [
        "Alexa:  Welcome! What would you like to drink?",
        "User:   I'll have my usual",
        "Alexa:  It seems like you are coming to this store for the first time!",
        "User:   a large latte",
        "Alexa:  Sorry, I don't have latte.",
        "Alexa:  Alright! Your large coffee will be served soon!",
        "(the session ends)",
        "stored: {\"drink\":\"coffee\",\"size\":\"large\"}",
        "Alexa:  Got it. I will make your usual large coffee!",
        "Bye.",
    ];
    let mut rest = stdout.as_str();
    for line in expected {
        let at = rest
            .find(line)
            .unwrap_or_else(|| panic!("missing {line:?} (in order) in\n{stdout}"));
        rest = &rest[at + line.len()..];
    }
    assert!(!stdout.contains("never read"));
}

#[test]
fn interactive_mode_ends_at_end_of_input() {
    let out = run(
        env!("CARGO_BIN_EXE_cat-facts"),
        &["--interactive"],
        "yes\nfact 3\n",
        &[],
    );
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("Fact number 3:"), "{stdout}");
    assert!(stdout.trim_end().ends_with("Bye."), "{stdout}");
}

#[test]
fn a_backend_whose_feature_is_off_is_a_clear_error() {
    for (var, value, feature) in [
        ("SKILL_PERSISTENCE", "dynamodb", "`dynamodb`"),
        (
            "DYNAMODB_PERSISTENCE_TABLE_NAME",
            "ask-hosted-table",
            "`dynamodb`",
        ),
        ("S3_PERSISTENCE_BUCKET", "ask-hosted-bucket", "`s3`"),
    ] {
        if cfg!(feature = "dynamodb") || cfg!(feature = "s3") {
            return; // built with the backends: nothing to check here
        }
        let out = run(env!("CARGO_BIN_EXE_cat-facts"), &[], "", &[(var, value)]);
        let stderr = text(&out.stderr);
        assert!(!out.status.success(), "{var}={value}");
        assert!(stderr.contains(feature), "{var}={value}: {stderr}");
        assert!(text(&out.stdout).is_empty(), "no demo ran");
    }
}

#[test]
fn unknown_backend_and_bad_arguments_fail() {
    let out = run(
        env!("CARGO_BIN_EXE_cafe"),
        &[],
        "",
        &[("SKILL_PERSISTENCE", "postgres")],
    );
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("postgres"));

    let out = run(env!("CARGO_BIN_EXE_cafe"), &["--frobnicate"], "", &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("usage: cafe"));

    let out = run(env!("CARGO_BIN_EXE_cafe"), &["--help"], "", &[]);
    assert!(out.status.success());
    assert!(text(&out.stdout).contains("--interactive"));
}

#[cfg(not(feature = "http"))]
#[test]
fn http_mode_without_its_feature_says_so() {
    let out = run(env!("CARGO_BIN_EXE_cafe"), &["--http"], "", &[]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("`http` feature"));
}

#[cfg(feature = "dynamodb")]
#[test]
fn dynamodb_without_a_table_name_names_the_variable() {
    let out = run(
        env!("CARGO_BIN_EXE_cafe"),
        &[],
        "",
        &[
            ("SKILL_PERSISTENCE", "dynamodb"),
            ("AWS_REGION", "us-east-1"),
        ],
    );
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("DYNAMODB_PERSISTENCE_TABLE_NAME"),
        "{stderr}"
    );
}

#[cfg(feature = "s3")]
#[test]
fn s3_without_a_bucket_names_the_variable() {
    let out = run(
        env!("CARGO_BIN_EXE_cafe"),
        &[],
        "",
        &[("SKILL_PERSISTENCE", "s3"), ("AWS_REGION", "us-east-1")],
    );
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("S3_PERSISTENCE_BUCKET"), "{stderr}");
}

/// The scripted demo run twice with nothing configured, on one data directory: the second run
/// says what it remembers and greets user A as a returning visitor.
#[cfg(feature = "sqlite")]
#[test]
fn cat_facts_run_twice_remembers_the_user() {
    let data = fresh_data_dir();
    let data_dir = data.to_str().unwrap();
    let db = data.join("alexa-persistence").join("cat-facts.sqlite3");
    let first = run(
        env!("CARGO_BIN_EXE_cat-facts"),
        &[],
        "",
        &[("XDG_DATA_HOME", data_dir)],
    );
    let stdout = text(&first.stdout);
    assert!(first.status.success(), "{stdout}\n{}", text(&first.stderr));
    assert!(
        stdout.contains(&format!(
            "persistent attributes in SQLite database '{}'",
            db.display()
        )),
        "{stdout}"
    );
    assert!(db.is_file(), "no database at {}", db.display());
    assert!(!stdout.contains("Remembered"), "{stdout}");
    assert!(stdout.contains("Alexa:  Welcome to Cat Facts!"), "{stdout}");

    let second = run(
        env!("CARGO_BIN_EXE_cat-facts"),
        &[],
        "",
        &[("XDG_DATA_HOME", data_dir)],
    );
    let stdout = text(&second.stdout);
    assert!(
        second.status.success(),
        "{stdout}\n{}",
        text(&second.stderr)
    );
    let expected = [
        "Remembered from an earlier run:",
        "user A: {\"facts_index\":7,\"visits\":2}",
        "=== Session 1 (user A) ===",
        "Alexa:  Welcome back to Cat Facts! This is your visit number 3. Last time you heard fact \
         number 8. Would you like to hear fact number 9?",
    ];
    let mut rest = stdout.as_str();
    for line in expected {
        let at = rest
            .find(line)
            .unwrap_or_else(|| panic!("missing {line:?} (in order) in\n{stdout}"));
        rest = &rest[at + line.len()..];
    }
    assert!(!stdout.contains("Welcome to Cat Facts!"), "{stdout}");
}

/// The cafe run twice: the newcomer of the first run has a usual order in the second.
#[cfg(feature = "sqlite")]
#[test]
fn cafe_run_twice_remembers_the_usual_order() {
    let data = fresh_data_dir();
    let env = [("XDG_DATA_HOME", data.to_str().unwrap())];
    let first = run(env!("CARGO_BIN_EXE_cafe"), &[], "", &env);
    let stdout = text(&first.stdout);
    assert!(first.status.success(), "{stdout}");
    assert!(
        stdout.contains("It seems like you are coming to this store for the first time!"),
        "{stdout}"
    );

    let second = run(env!("CARGO_BIN_EXE_cafe"), &[], "", &env);
    let stdout = text(&second.stdout);
    assert!(second.status.success(), "{stdout}");
    for line in [
        "Remembered from an earlier run:",
        "user A: {\"drink\":\"coffee\"}",
        "user B: {\"drink\":\"green tea\",\"size\":\"large\"}",
        "Alexa:  Got it. I will make your usual large green tea!",
    ] {
        assert!(stdout.contains(line), "missing {line:?} in\n{stdout}");
    }
    assert!(
        !stdout.contains("coming to this store for the first time"),
        "{stdout}"
    );
}

/// Memory stays available: with SKILL_PERSISTENCE=memory nothing is kept between runs, and
/// no database file is made.
#[test]
fn memory_forgets_between_runs() {
    let data = fresh_data_dir();
    let env = [
        ("XDG_DATA_HOME", data.to_str().unwrap()),
        ("SKILL_PERSISTENCE", "memory"),
    ];
    for _ in 0..2 {
        let out = run(env!("CARGO_BIN_EXE_cat-facts"), &[], "", &env);
        let stdout = text(&out.stdout);
        assert!(out.status.success(), "{stdout}");
        assert!(stdout.contains("Alexa:  Welcome to Cat Facts!"), "{stdout}");
        assert!(!stdout.contains("Remembered"), "{stdout}");
    }
    assert!(!data.join("alexa-persistence").exists());
}

/// SQLITE_PERSISTENCE_PATH picks the file; interactive mode says where the data is; a path
/// in a missing directory is a clear error naming it.
#[cfg(feature = "sqlite")]
#[test]
fn sqlite_path_variable_picks_the_file() {
    let data = fresh_data_dir();
    let db = data.join("mine.sqlite3");
    let env = [("SQLITE_PERSISTENCE_PATH", db.to_str().unwrap())];
    let out = run(
        env!("CARGO_BIN_EXE_cafe"),
        &["--interactive", "--user", "amzn1.ask.account.PATHVAR"],
        "a tea\nquit\n",
        &env,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains(&format!("SQLite database '{}'", db.display())),
        "{}",
        text(&out.stderr)
    );
    let out = run(
        env!("CARGO_BIN_EXE_cafe"),
        &["--interactive", "--user", "amzn1.ask.account.PATHVAR"],
        "I'll have my usual\nquit\n",
        &env,
    );
    assert!(
        text(&out.stdout).contains("Got it. I will make your usual tea!"),
        "{}",
        text(&out.stdout)
    );

    let missing = data.join("no-such-dir").join("x.sqlite3");
    let out = run(
        env!("CARGO_BIN_EXE_cafe"),
        &[],
        "",
        &[("SQLITE_PERSISTENCE_PATH", missing.to_str().unwrap())],
    );
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(stderr.contains(&missing.display().to_string()), "{stderr}");
    assert!(stderr.contains("does not exist"), "{stderr}");
    assert!(text(&out.stdout).is_empty(), "no demo ran");
}

/// A runtime API address nothing listens on: the binaries below must stop before using it.
const RUNTIME_API: (&str, &str) = ("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9");

#[test]
fn in_lambda_without_a_backend_the_binaries_refuse_memory_and_name_the_variables() {
    for bin in [env!("CARGO_BIN_EXE_cafe"), env!("CARGO_BIN_EXE_cat-facts")] {
        let out = run(bin, &[], "", &[RUNTIME_API]);
        let stderr = text(&out.stderr);
        assert!(!out.status.success(), "{bin}: {stderr}");
        for name in [
            "DYNAMODB_PERSISTENCE_TABLE_NAME",
            "SKILL_PERSISTENCE=memory",
            "AWS_LAMBDA_RUNTIME_API",
        ] {
            assert!(stderr.contains(name), "{bin}: {name} missing in {stderr}");
        }
        assert!(text(&out.stdout).is_empty(), "{bin}: no demo ran");
    }
}

#[test]
fn in_lambda_the_binaries_serve_lambda_without_a_flag() {
    // Lambda passes no arguments. With memory asked for explicitly, the binary goes on to the
    // Lambda front (instead of the scripted demo); which stops at once here, because the
    // function name Lambda also sets is missing (or, without the feature, says so).
    let skill_id = (
        "ALEXA_SKILL_ID",
        "amzn1.ask.skill.7c0ffee0-cafe-4e2e-9a11-0000000cafe1",
    );
    // Served by Lambda, a skill without its ID refuses to start, saying how to set it.
    let out = run(
        env!("CARGO_BIN_EXE_cafe"),
        &[],
        "",
        &[RUNTIME_API, ("SKILL_PERSISTENCE", "memory")],
    );
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("ALEXA_SKILL_ID") && stderr.contains("ALEXA_SKIP_SKILL_ID_CHECK"),
        "{stderr}"
    );
    let out = run(
        env!("CARGO_BIN_EXE_cafe"),
        &[],
        "",
        &[RUNTIME_API, ("SKILL_PERSISTENCE", "memory"), skill_id],
    );
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        text(&out.stdout).is_empty(),
        "the scripted demo ran: {stderr}"
    );
    if cfg!(feature = "lambda") {
        assert!(
            stderr.contains("not running inside AWS Lambda: AWS_LAMBDA_FUNCTION_NAME is not set"),
            "{stderr}"
        );
    } else {
        assert!(stderr.contains("`lambda` feature"), "{stderr}");
    }
    // `--lambda` still works where there is no runtime API.
    let out = run(env!("CARGO_BIN_EXE_cafe"), &["--lambda"], "", &[skill_id]);
    let stderr = text(&out.stderr);
    assert!(!out.status.success());
    if cfg!(feature = "lambda") {
        assert!(
            stderr.contains("AWS_LAMBDA_RUNTIME_API is not set"),
            "{stderr}"
        );
    } else {
        assert!(stderr.contains("`lambda` feature"), "{stderr}");
    }
}
