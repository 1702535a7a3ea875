//! The example skills' conversations (cat facts, persistent cafe) on every backend: the same
//! scenario code that runs on memory in skill-examples' own tests, here on DynamoDB and S3.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use persistence_core::PersistenceAdapter;
use persistence_integration_tests::{dynamodb_adapter, s3_adapter};
use persistence_memory::MemoryAdapter;
use skill_examples::scenarios;

macro_rules! scenario_tests {
    ($backend:ident, $make:expr) => {
        mod $backend {
            use super::*;

            async fn adapter() -> Option<Arc<dyn PersistenceAdapter>> {
                $make
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn cat_facts_conversation() {
                let Some(a) = adapter().await else { return };
                scenarios::cat_facts_conversation(a).await.unwrap();
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn cat_facts_last_fact_and_start_over() {
                let Some(a) = adapter().await else { return };
                scenarios::cat_facts_last_fact_and_start_over(a)
                    .await
                    .unwrap();
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn cat_facts_one_shot_and_separate_users() {
                let Some(a) = adapter().await else { return };
                scenarios::cat_facts_one_shot_and_separate_users(a)
                    .await
                    .unwrap();
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn cafe_order_then_usual() {
                let Some(a) = adapter().await else { return };
                scenarios::cafe_order_then_usual(a).await.unwrap();
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn cafe_usual_on_first_visit() {
                let Some(a) = adapter().await else { return };
                scenarios::cafe_usual_on_first_visit(a).await.unwrap();
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn cafe_sizes_and_unknown_drinks() {
                let Some(a) = adapter().await else { return };
                scenarios::cafe_sizes_and_unknown_drinks(a).await.unwrap();
            }
        }
    };
}

scenario_tests!(
    memory,
    Some(Arc::new(MemoryAdapter::new()) as Arc<dyn PersistenceAdapter>)
);
scenario_tests!(
    dynamodb,
    dynamodb_adapter("skills")
        .await
        .map(|a| Arc::new(a) as Arc<dyn PersistenceAdapter>)
);
scenario_tests!(
    s3,
    s3_adapter("skills", Some("skills"))
        .await
        .map(|a| Arc::new(a) as Arc<dyn PersistenceAdapter>)
);
