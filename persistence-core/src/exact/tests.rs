use super::*;
use serde_json::json;

fn parse(text: &str) -> ExactValue {
    ExactValue::parse_json(text).unwrap()
}

#[test]
fn numbers_keep_their_text_through_parse_and_write() {
    let text = r#"{"a":[0.6666666666666666666666666667,1180591620717411303424,1.50,-0,1E+2],"b":{"c":"\u00e9\"x"}}"#;
    let v = parse(text);
    assert_eq!(
        v.to_json_text(),
        r#"{"a":[0.6666666666666666666666666667,1180591620717411303424,1.50,-0,1E+2],"b":{"c":"é\"x"}}"#
    );
    assert_eq!(
        v.to_json().unwrap(),
        json!({"a": [2.0 / 3.0, 1.1805916207174113e21, 1.5, 0, 100.0], "b": {"c": "é\"x"}})
    );
}

#[test]
fn a_number_set_whose_members_are_alike_as_doubles_stays_a_set_with_its_digits() {
    let long = "0.10000000000000000000000000000000000001";
    let stored = ExactValue::NumberSet(vec![
        ExactNumber::parse("0.1").unwrap(),
        ExactNumber::parse(long).unwrap(),
    ]);
    let mut view = stored.to_json().unwrap();
    assert_eq!(view, json!([0.1, 0.1]));
    view.as_array_mut().unwrap().push(json!(7));
    let ExactValue::NumberSet(members) = stored.reconcile(&view) else {
        panic!("the set became {:?}", stored.reconcile(&view));
    };
    let texts: Vec<&str> = members.iter().map(ExactNumber::as_str).collect();
    assert_eq!(texts, ["0.1", long, "7"]);
    // A skill that makes two members equal (by exact value) has a list, not a set.
    let dup = json!([7, 7]);
    assert!(matches!(stored.reconcile(&dup), ExactValue::List(_)));
}

#[test]
fn untouched_values_are_written_as_stored() {
    let stored = parse(r#"{"n": 1.50, "big": 1180591620717411303424, "list": [1.0, "x"]}"#);
    let mut view = stored.to_json().unwrap();
    assert!(stored.has_view(&view));
    view["list"][1] = json!("y");
    assert_eq!(
        stored.reconcile(&view).to_json_text(),
        r#"{"big":1180591620717411303424,"list":[1.0,"y"],"n":1.50}"#
    );
}

#[test]
fn sets_and_binary_keep_their_type_when_changed_compatibly() {
    let tags = ExactValue::StringSet(vec!["a".into(), "b".into()]);
    assert_eq!(
        tags.reconcile(&json!(["a", "b", "c"])),
        ExactValue::StringSet(vec!["a".into(), "b".into(), "c".into()])
    );
    // Duplicates or other types: not a set any more.
    assert!(matches!(
        tags.reconcile(&json!(["a", "a"])),
        ExactValue::List(_)
    ));
    assert!(matches!(
        tags.reconcile(&json!(["a", 1])),
        ExactValue::List(_)
    ));
    assert!(matches!(tags.reconcile(&json!([])), ExactValue::List(_)));
    let nums = ExactValue::NumberSet(vec![
        ExactNumber::parse("0.6666666666666666666666666667").unwrap(),
        ExactNumber::parse("2").unwrap(),
    ]);
    let mut view = nums.to_json().unwrap();
    view.as_array_mut().unwrap().push(json!(3));
    assert_eq!(
        nums.reconcile(&view).to_json_text(),
        "[0.6666666666666666666666666667,2,3]"
    );
    let bin = ExactValue::Binary(vec![0, 255]);
    assert_eq!(bin.to_json().unwrap(), json!("AP8="));
    assert_eq!(bin.reconcile(&json!("AQ==")), ExactValue::Binary(vec![1]));
    assert_eq!(
        bin.reconcile(&json!("not base64!")),
        ExactValue::String("not base64!".into())
    );
}

#[test]
fn out_of_range_numbers_are_seen_as_their_text_and_written_back_as_numbers() {
    let v = parse(r#"{"a": {"b": [1, 1e400]}, "s": [2, 3E+999]}"#);
    let mut view = v.to_json().unwrap();
    assert_eq!(view["a"]["b"][1], "1e400");
    assert!(v.has_view(&view));
    assert_eq!(v.reconcile(&view), v);
    view["a"]["b"][0] = json!(5);
    assert_eq!(
        v.reconcile(&view).to_json_text(),
        r#"{"a":{"b":[5,1e400]},"s":[2,3E+999]}"#
    );
    let set = ExactValue::NumberSet(vec![
        ExactNumber::parse("1").unwrap(),
        ExactNumber::parse("1e400").unwrap(),
    ]);
    let mut view = set.to_json().unwrap();
    assert_eq!(view, json!([1, "1e400"]));
    view.as_array_mut().unwrap().push(json!(2));
    assert_eq!(set.reconcile(&view).to_json_text(), "[1,1e400,2]");
    assert!(matches!(set.reconcile(&view), ExactValue::NumberSet(_)));
}

#[test]
fn depth_counts_containers() {
    assert_eq!(parse("1").depth(), 0);
    assert_eq!(parse("[]").depth(), 1);
    assert_eq!(parse(r#"{"a":[{"b":1}]}"#).depth(), 3);
    assert_eq!(ExactValue::StringSet(vec!["x".into()]).depth(), 1);
}

#[test]
fn deep_documents_read_up_to_the_limit_on_a_small_stack() {
    let deep = |n: usize| format!("{}1{}", "[".repeat(n), "]".repeat(n));
    // A tokio worker's stack (2 MiB) is enough for the deepest document read.
    let read = std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(move || {
            let ok = ExactValue::parse_json(&deep(MAX_READ_DEPTH)).map(|v| {
                let depth = v.depth();
                (depth, v.to_json().is_ok(), v.to_json_text().len())
            });
            let too_deep = ExactValue::parse_json(&deep(MAX_READ_DEPTH + 1)).is_err();
            (ok.ok(), too_deep)
        })
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(read.0, Some((MAX_READ_DEPTH, true, 2 * MAX_READ_DEPTH + 1)));
    assert!(read.1);
}

#[test]
fn garbage_is_an_error() {
    for bad in ["", "{", "[1,]", "NaN", "01"] {
        assert!(ExactValue::parse_json(bad).is_err(), "{bad}");
    }
}
