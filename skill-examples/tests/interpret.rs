//! Typed lines of the interactive demos map to the intents Alexa would send.

use skill_examples::demo::Utterance;
use skill_examples::{cafe, cat_facts};

fn intent(name: &str) -> Utterance {
    Utterance::intent(name)
}

#[test]
fn cat_facts_lines() {
    let fact = |n: &str| intent("FactNumberIntent").with_slot("fact_number", n);
    let cases = [
        ("yes", intent("AMAZON.YesIntent")),
        ("Yeah!", intent("AMAZON.YesIntent")),
        ("no", intent("AMAZON.NoIntent")),
        ("no thanks", intent("AMAZON.NoIntent")),
        ("fact 3", fact("3")),
        ("tell me fact number three", fact("3")),
        ("I want fact 10", fact("10")),
        ("7", fact("7")),
        ("fact banana", fact("?")),
        ("help", intent("AMAZON.HelpIntent")),
        ("stop", intent("AMAZON.StopIntent")),
        ("cancel", intent("AMAZON.CancelIntent")),
        ("start over", intent("AMAZON.StartOverIntent")),
        ("restart", intent("AMAZON.StartOverIntent")),
        ("open cat facts", Utterance::Open),
        ("exit", Utterance::Exit),
        ("quit", Utterance::Quit),
        ("what's the weather", intent("AMAZON.FallbackIntent")),
    ];
    for (line, want) in cases {
        assert_eq!(cat_facts::interpret(line), want, "{line:?}");
    }
}

#[test]
fn cafe_lines() {
    let order = |drink: &str| intent("OrderIntent").with_slot("drink", drink);
    let cases = [
        ("I'll have my usual", intent("MyUsualIntent")),
        ("I\u{2019}ll have my usual.", intent("MyUsualIntent")),
        ("the usual please", intent("MyUsualIntent")),
        ("a large latte", order("latte").with_slot("size", "large")),
        ("a coffee, please", order("coffee")),
        (
            "I'd like a small green tea",
            order("green tea").with_slot("size", "small"),
        ),
        ("coke", order("coke")),
        ("ordinary water", order("ordinary water")),
        ("please", intent("AMAZON.FallbackIntent")),
        ("help", intent("AMAZON.HelpIntent")),
        ("stop", intent("AMAZON.StopIntent")),
        ("no", intent("AMAZON.NoIntent")),
        ("open persistent cafe", Utterance::Open),
        ("quit", Utterance::Quit),
        ("exit", Utterance::Exit),
    ];
    for (line, want) in cases {
        assert_eq!(cafe::interpret(line), want, "{line:?}");
    }
}
