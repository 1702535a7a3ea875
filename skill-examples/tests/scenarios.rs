//! The example conversations on the memory backend (and all of them once on SQLite).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use persistence_core::{
    Attributes, ListOptions, Pages, PersistenceAdapter, Result as PResult, SaveOptions, Stored,
    Version, async_trait,
};
use persistence_memory::MemoryAdapter;
use skill_examples::{cafe, cat_facts, scenarios};
use skill_testkit::Conversation;

fn memory() -> (MemoryAdapter, Arc<dyn PersistenceAdapter>) {
    let store = MemoryAdapter::new();
    (store.clone(), Arc::new(store))
}

#[tokio::test]
async fn cat_facts_conversation() -> Result<(), scenarios::ScenarioError> {
    let (store, adapter) = memory();
    scenarios::cat_facts_conversation(adapter).await?;
    assert!(store.is_empty(), "the scenario cleans up after itself");
    Ok(())
}

#[tokio::test]
async fn cat_facts_last_fact_and_start_over() -> Result<(), scenarios::ScenarioError> {
    scenarios::cat_facts_last_fact_and_start_over(memory().1).await
}

#[tokio::test]
async fn cat_facts_one_shot_and_separate_users() -> Result<(), scenarios::ScenarioError> {
    scenarios::cat_facts_one_shot_and_separate_users(memory().1).await
}

#[tokio::test]
async fn cafe_order_then_usual() -> Result<(), scenarios::ScenarioError> {
    scenarios::cafe_order_then_usual(memory().1).await
}

#[tokio::test]
async fn cafe_usual_on_first_visit() -> Result<(), scenarios::ScenarioError> {
    scenarios::cafe_usual_on_first_visit(memory().1).await
}

#[tokio::test]
async fn cafe_sizes_and_unknown_drinks() -> Result<(), scenarios::ScenarioError> {
    scenarios::cafe_sizes_and_unknown_drinks(memory().1).await
}

#[tokio::test]
async fn all_scenarios_share_one_store_and_run_concurrently() {
    let (store, adapter) = memory();
    let (a, b) = tokio::join!(
        scenarios::all(adapter.clone()),
        scenarios::all(adapter.clone())
    );
    a.unwrap();
    b.unwrap();
    assert!(store.is_empty());
}

/// A store that acknowledges saves and forgets them: the scenarios must notice.
#[derive(Debug, Default)]
struct Forgetful(MemoryAdapter);

#[async_trait]
impl PersistenceAdapter for Forgetful {
    async fn get(&self, key: &str) -> PResult<Option<Stored>> {
        self.0.get(key).await
    }
    async fn save_with(&self, _: &str, _: &Attributes, _: &SaveOptions) -> PResult<Version> {
        Ok(Version::new("0"))
    }
    async fn delete(&self, key: &str) -> PResult<()> {
        self.0.delete(key).await
    }
    async fn delete_if(&self, key: &str, expected: &Version) -> PResult<()> {
        self.0.delete_if(key, expected).await
    }
    fn list_keys<'a>(&'a self, options: &ListOptions) -> Pages<'a, String> {
        self.0.list_keys(options)
    }
    fn describe(&self) -> String {
        "forgetful store".into()
    }
}

#[tokio::test]
async fn scenarios_fail_on_a_store_that_loses_writes() {
    let err = scenarios::cafe_order_then_usual(Arc::new(Forgetful::default()))
        .await
        .unwrap_err();
    assert_eq!(err.scenario, "cafe_order_then_usual");
    assert!(err.step.contains("a coffee, please"), "{err}");
    assert!(err.detail.contains("stored attributes"), "{err}");

    let err = scenarios::cat_facts_conversation(Arc::new(Forgetful::default()))
        .await
        .unwrap_err();
    assert!(err.step.contains("turn 1"), "{err}");
}

/// Counts writes.
#[derive(Debug, Default)]
struct Counting {
    inner: MemoryAdapter,
    saves: AtomicUsize,
    gets: AtomicUsize,
}

#[async_trait]
impl PersistenceAdapter for Counting {
    async fn get(&self, key: &str) -> PResult<Option<Stored>> {
        self.gets.fetch_add(1, Ordering::SeqCst);
        self.inner.get(key).await
    }
    async fn save_with(
        &self,
        key: &str,
        attrs: &Attributes,
        options: &SaveOptions,
    ) -> PResult<Version> {
        self.saves.fetch_add(1, Ordering::SeqCst);
        self.inner.save_with(key, attrs, options).await
    }
    async fn delete(&self, key: &str) -> PResult<()> {
        self.inner.delete(key).await
    }
    async fn delete_if(&self, key: &str, expected: &Version) -> PResult<()> {
        self.inner.delete_if(key, expected).await
    }
    fn list_keys<'a>(&'a self, options: &ListOptions) -> Pages<'a, String> {
        self.inner.list_keys(options)
    }
    fn describe(&self) -> String {
        "counting store".into()
    }
}

#[tokio::test]
async fn cat_facts_writes_only_on_turns_that_change_something() {
    let store = Arc::new(Counting::default());
    let skill = cat_facts::skill(store.clone()).unwrap();
    let mut c = Conversation::new(&skill);
    let saves = || store.saves.load(Ordering::SeqCst);

    c.launch().await.unwrap(); // counts a visit
    assert_eq!(saves(), 1);
    c.intent("AMAZON.HelpIntent").send().await.unwrap();
    c.intent("AMAZON.FallbackIntent").send().await.unwrap();
    c.intent("FactNumberIntent")
        .slot("fact_number", "99")
        .send()
        .await
        .unwrap();
    assert_eq!(
        saves(),
        1,
        "help, fallback and a refused number write nothing"
    );
    c.intent("AMAZON.YesIntent").send().await.unwrap();
    assert_eq!(saves(), 2);
    c.intent("FactNumberIntent")
        .slot("fact_number", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(saves(), 2, "hearing fact 1 again changes nothing stored");
    c.intent("AMAZON.StopIntent").send().await.unwrap();
    assert_eq!(saves(), 2);
}

#[tokio::test]
async fn cafe_usual_reads_once_and_never_writes() {
    let store = Arc::new(Counting::default());
    let skill = cafe::skill(store.clone()).unwrap();
    let mut c = Conversation::new(&skill);
    c.launch().await.unwrap();
    assert_eq!(
        store.gets.load(Ordering::SeqCst),
        0,
        "the greeting needs no read"
    );
    c.intent("MyUsualIntent").send().await.unwrap();
    assert_eq!(store.gets.load(Ordering::SeqCst), 1);
    assert_eq!(store.saves.load(Ordering::SeqCst), 0);
    c.intent("OrderIntent")
        .slot("drink", "coke")
        .send()
        .await
        .unwrap();
    assert_eq!(store.saves.load(Ordering::SeqCst), 1);
    c.launch().await.unwrap();
    c.intent("MyUsualIntent").send().await.unwrap();
    assert_eq!(store.saves.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn skill_id_from_the_builder_is_enforced() {
    let skill = cafe::builder(memory().1)
        .with_skill_id("amzn1.ask.skill.cafe")
        .build()
        .unwrap();
    let mut mine = Conversation::new(&skill);
    assert!(mine.launch().await.is_ok());
    let mut theirs = Conversation::new(&skill).application_id("amzn1.ask.skill.other");
    assert!(matches!(
        theirs.launch().await,
        Err(skill_builder::SkillError::SkillIdMismatch { .. })
    ));
}

/// Every conversation, twice at once, on a SQLite file: what the binaries use by default.
#[tokio::test]
async fn all_scenarios_on_sqlite() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "scenarios-{}",
        &persistence_core::unique_token()[12..]
    ));
    let store = persistence_sqlite::SqliteAdapter::builder(dir.join("skills.sqlite3"))
        .create_directories(true)
        .open()
        .await
        .unwrap();
    let adapter: Arc<dyn PersistenceAdapter> = Arc::new(store);
    let (a, b) = tokio::join!(
        scenarios::all(adapter.clone()),
        scenarios::all(adapter.clone())
    );
    a.unwrap();
    b.unwrap();
}
