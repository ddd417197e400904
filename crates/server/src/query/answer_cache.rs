//! Answers kept while the read model they were computed from has not moved.
//!
//! A leaderboard or a month's report costs 0.4 to 5 ms of CPU to compute, and the same
//! question comes again and again (wallboards, dashboards of several team leads) while
//! the model has folded nothing new. Each answer is kept under the model's position; a
//! query at that position gets it without computing it again, and the first query after
//! the model moves computes it anew. Queries that ask the same missing question at once
//! compute it once. An answer computed while the model moved on may be newer than its
//! position, never older, so a query still sees at least what it waited for.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use helpdesk_log::Position;
use tokio::sync::OnceCell;

/// How many different questions are kept for one position, and how many bytes their
/// answers may take together; beyond either, the kept ones are forgotten (a bound on
/// memory when clients vary their questions: a report may have 200,000 rows).
const MAX_KEPT: usize = 256;
const MAX_KEPT_BYTES: usize = 64 * 1024 * 1024;

/// About what an answer takes in memory, in bytes.
pub trait Weight {
    fn weight(&self) -> usize;
}

impl<M: prost::Message> Weight for Vec<M> {
    fn weight(&self) -> usize {
        self.iter().map(M::encoded_len).sum::<usize>() + self.len() * std::mem::size_of::<M>()
    }
}

/// Answers of type `V` by question, for the latest position of one model.
#[derive(Debug)]
pub struct Answers<V> {
    kept: Mutex<Kept<V>>,
}

#[derive(Debug)]
struct Kept<V> {
    position: Position,
    answers: HashMap<Vec<u8>, Arc<OnceCell<Arc<V>>>>,
    /// The weight of the answers computed for `answers`.
    bytes: usize,
}

impl<V> Default for Answers<V> {
    fn default() -> Self {
        Answers {
            kept: Mutex::new(Kept {
                position: 0,
                answers: HashMap::new(),
                bytes: 0,
            }),
        }
    }
}

impl<V: Weight> Answers<V> {
    /// The answer to `question` (any bytes that tell questions apart) with the model at
    /// `position`, computed by `compute` unless it is kept. Errors are not kept.
    pub async fn get_or_compute<E, F>(
        &self,
        position: Position,
        question: Vec<u8>,
        compute: impl FnOnce() -> F,
    ) -> Result<Arc<V>, E>
    where
        F: std::future::Future<Output = Result<V, E>>,
    {
        let cell = {
            let mut kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
            if position > kept.position || kept.answers.len() >= MAX_KEPT {
                kept.position = kept.position.max(position);
                kept.answers.clear();
                kept.bytes = 0;
            }
            if position < kept.position {
                // A query that read the position before another moved it on: keeping
                // its answer would replace newer ones.
                None
            } else {
                Some(kept.answers.entry(question).or_default().clone())
            }
        };
        let Some(cell) = cell else {
            return compute().await.map(Arc::new);
        };
        let computed_here = std::sync::atomic::AtomicBool::new(false);
        let answer = cell
            .get_or_try_init(|| async {
                computed_here.store(true, std::sync::atomic::Ordering::Relaxed);
                compute().await.map(Arc::new)
            })
            .await?
            .clone();
        if computed_here.into_inner() {
            let mut kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
            if kept.position == position {
                kept.bytes += answer.weight();
                if kept.bytes > MAX_KEPT_BYTES {
                    kept.answers.clear();
                    kept.bytes = 0;
                }
            }
        }
        Ok(answer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    impl Weight for String {
        fn weight(&self) -> usize {
            self.len()
        }
    }

    impl Weight for u32 {
        fn weight(&self) -> usize {
            4
        }
    }

    #[tokio::test]
    async fn answers_heavier_than_the_budget_are_forgotten() {
        let answers = Answers::<String>::default();
        let computed = AtomicUsize::new(0);
        let ask = |question: &'static str, size: usize| {
            let computed = &computed;
            let answers = &answers;
            async move {
                answers
                    .get_or_compute(1, question.as_bytes().to_vec(), || {
                        computed.fetch_add(1, Ordering::SeqCst);
                        std::future::ready(Ok::<_, ()>("x".repeat(size)))
                    })
                    .await
                    .unwrap()
            }
        };
        let half = MAX_KEPT_BYTES / 2 + 1;
        ask("a", half).await;
        ask("a", half).await;
        assert_eq!(computed.load(Ordering::SeqCst), 1, "kept");
        // A second answer of half the budget makes too many bytes: both are forgotten.
        ask("b", half).await;
        ask("a", half).await;
        assert_eq!(computed.load(Ordering::SeqCst), 3, "forgotten");
    }

    #[tokio::test]
    async fn kept_while_the_position_holds_and_computed_anew_after() {
        let answers = Answers::<String>::default();
        let computed = AtomicUsize::new(0);
        let ask = |position: Position, question: &str, answer: &str| {
            let answer = answer.to_owned();
            let computed = &computed;
            let answers = &answers;
            let question = question.as_bytes().to_vec();
            async move {
                answers
                    .get_or_compute(position, question, || {
                        computed.fetch_add(1, Ordering::SeqCst);
                        std::future::ready(Ok::<_, ()>(answer))
                    })
                    .await
                    .unwrap()
            }
        };
        assert_eq!(*ask(5, "top", "a").await, "a");
        assert_eq!(*ask(5, "top", "b").await, "a", "same position: kept");
        assert_eq!(*ask(5, "month", "m").await, "m", "another question");
        assert_eq!(computed.load(Ordering::SeqCst), 2);
        assert_eq!(*ask(6, "top", "c").await, "c", "the model moved: anew");
        assert_eq!(
            *ask(5, "top", "d").await,
            "d",
            "an older position is not kept"
        );
        assert_eq!(*ask(6, "top", "e").await, "c");
        assert_eq!(computed.load(Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn errors_are_not_kept() {
        let answers = Answers::<u32>::default();
        let failed = answers
            .get_or_compute(1, b"q".to_vec(), || {
                std::future::ready(Err::<u32, _>("busy"))
            })
            .await;
        assert_eq!(failed, Err("busy"));
        let answered = answers
            .get_or_compute(1, b"q".to_vec(), || std::future::ready(Ok::<_, &str>(7)))
            .await;
        assert_eq!(answered.map(|a| *a), Ok(7));
    }
}
