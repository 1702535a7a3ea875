//! Issue 22's tables: requests per session, session latency, the account-linking first turn.

use super::*;
use crate::session::latency::LatencyRow;
use crate::session::{INTENTS, SESSION};
use crate::stats::{Summary, summarize};

/// Storage wait p50 over the requests of a session: the RTT plus the store's own time.
fn per_request(r: &LatencyRow) -> f64 {
    let (reads, writes) = r.requests();
    if reads + writes > 0.0 {
        r.storage().p50_ms / (reads + writes)
    } else {
        0.0
    }
}

fn p50_p99(s: Summary) -> (String, String) {
    (ms(s.p50_ms), ms(s.p99_ms))
}

impl Report {
    pub(super) fn session_counts_table(&self) -> Table {
        let mut t = Table::new(
            "Requests per five-turn session through the skill builder (issue 22)",
            &[
                "backend",
                "configuration",
                "session 1: requests",
                "R",
                "W",
                "session 2 (same user, same process)",
                "R",
                "W",
                "target",
                "verdict",
            ],
        );
        let changing = 1 + INTENTS.iter().filter(|(_, c)| *c).count();
        for r in &self.session_counts {
            t.row(vec![
                r.backend.name().into(),
                r.config.name().into(),
                r.first.operations.clone(),
                r.first.reads.to_string(),
                r.first.writes.to_string(),
                r.next.operations.clone(),
                r.next.reads.to_string(),
                r.next.writes.to_string(),
                format!("≤ 1R {changing}W"),
                mark(r.meets_target()).into(),
            ]);
        }
        t.note(SESSION);
        t.note(
            "DynamoDB and S3: HTTP requests counted at the SDK (interceptor, every attempt); memory and SQLite: \
             calls to the adapter. carry = Skill::with_session_carry (the attributes and version ride in the \
             session attributes, ≤ 6 KB); cache = persistence_cache::CachingAdapter in front of the store \
             (defaults: 10 000 entries, 60 s). Session 2 is the same user's next session served by the same \
             skill (a warm Lambda or server): only a cache saves its first read. The target is the first \
             session's; every save stays conditional on the version read.",
        );
        t
    }

    pub(super) fn session_latency_table(&self) -> Table {
        let Some(l) = &self.session_latency else {
            return Table::new("", &[]);
        };
        let mut t = Table::new(
            format!(
                "Five-turn session on DynamoDB under an emulated network: latency and storage wait, ms ({} sessions per row)",
                l.sessions
            ),
            &[
                "client",
                "configuration",
                "R/session",
                "W/session",
                "turn p50",
                "turn p99",
                "p50 by turn: launch / order / help / order / end",
                "session p50",
                "storage wait p50",
                "p99",
                "per request",
                "(R+W) × RTT",
            ],
        );
        for r in &l.rows {
            let (tp50, tp99) = p50_p99(r.turn());
            let (sp50, sp99) = p50_p99(r.storage());
            let (reads, writes) = r.requests();
            let by_turn = (0..5)
                .map(|i| ms(r.position(i).p50_ms))
                .collect::<Vec<_>>()
                .join(" / ");
            t.row(vec![
                r.client.clone(),
                r.config.clone(),
                format!("{reads:.1}"),
                format!("{writes:.1}"),
                tp50,
                tp99,
                by_turn,
                ms(r.session().p50_ms),
                sp50,
                sp99,
                ms(per_request(r)),
                ms((reads + writes) * l.added_rtt_ms),
            ]);
        }
        t.note(format!("Network: {}.", l.network));
        t.note(SESSION);
        t.note(
            "turn = the skill's invoke (Rust: Skill::invoke through skill_testkit::Conversation; Python: \
             CustomSkill.invoke with the official DynamoDbAdapter and boto3, bench/scripts/ask_session.py), \
             request envelope already parsed. storage wait = time inside the adapter's get/save calls, summed \
             over the session; per request = that p50 over the session's reads and writes (the RTT plus \
             the emulator's own time). (R+W) × RTT is the floor the emulated network alone puts under it. Sessions of \
             the configurations are interleaved; every session is a returning user with a ~1 KB map, except the \
             cache row, where one user's sessions follow each other in the same process.",
        );
        if let Some(note) = &l.python_note {
            t.note(format!("Python ASK SDK: not run: {note}"));
        }
        let find = |pred: &dyn Fn(&LatencyRow) -> bool| l.rows.iter().find(|r| pred(r));
        if let (Some(py), Some(carry)) = (
            find(&|r| r.client != "skill-builder"),
            find(&|r| r.client == "skill-builder" && r.config.starts_with("carry on")),
        ) {
            let saved = py.requests().0 - carry.requests().0;
            t.note(format!(
                "Storage wait per session, p50: skill-builder with carry {} ms vs the Python SDK {} ms: {} ms less. \
                 The {saved:.0} reads carry saves are worth {} ms of RTT alone, {} ms at the carry row's cost per \
                 request.",
                ms(carry.storage().p50_ms),
                ms(py.storage().p50_ms),
                ms(py.storage().p50_ms - carry.storage().p50_ms),
                ms(saved * l.added_rtt_ms),
                ms(saved * per_request(carry)),
            ));
        }
        t
    }

    pub(super) fn linking_table(&self) -> Table {
        let Some(l) = &self.session_latency else {
            return Table::new("", &[]);
        };
        if l.linking.is_empty() {
            return Table::new("", &[]);
        }
        let mut t = Table::new(
            "Account linking: the first turn (LaunchRequest) with prefetch on and off, ms",
            &[
                "skill",
                "prefetch",
                "turns",
                "turn p50",
                "turn p99",
                "storage wait p50",
                "lookup",
            ],
        );
        for r in &l.linking {
            let ns = |v: &[f64]| v.iter().map(|&x| (x * 1e6) as u64).collect::<Vec<_>>();
            let (p50, p99) = p50_p99(summarize(&mut ns(&r.turn_ms)));
            let (w50, _) = p50_p99(summarize(&mut ns(&r.storage_ms)));
            t.row(vec![
                r.skill.into(),
                if r.prefetch { "on" } else { "off" }.into(),
                r.turn_ms.len().to_string(),
                p50,
                p99,
                w50,
                ms(l.lookup_ms),
            ]);
        }
        t.note(format!(
            "Network: {}. The userinfo endpoint is a loopback server answering after {} ms (the OAuth provider's \
             lookup); the read goes through the emulated network. A returning linked user (~1 KB map): one read \
             and one save per first turn.",
            l.network,
            ms(l.lookup_ms)
        ));
        t.note(
            "The example keys its attributes by the linked account's subject, which only the lookup gives: the \
             read cannot start before the lookup ends, with or without prefetch. The second skill does the same \
             lookup in a before interceptor but keys by the Alexa user ID: with prefetch its read runs during the \
             lookup.",
        );
        t
    }
}
