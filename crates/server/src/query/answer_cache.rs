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

/// How many different questions are kept for one position; beyond it, the kept ones
/// are forgotten (a bound on memory when clients vary their questions).
const MAX_KEPT: usize = 256;

/// Answers of type `V` by question, for the latest position of one model.
#[derive(Debug)]
pub struct Answers<V> {
    kept: Mutex<Kept<V>>,
}

#[derive(Debug)]
struct Kept<V> {
    position: Position,
    answers: HashMap<Vec<u8>, Arc<OnceCell<Arc<V>>>>,
}

impl<V> Default for Answers<V> {
    fn default() -> Self {
        Answers {
            kept: Mutex::new(Kept {
                position: 0,
                answers: HashMap::new(),
            }),
        }
    }
}

impl<V> Answers<V> {
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
            }
            if position < kept.position {
                // A query that read the position before another moved it on: keeping
                // its answer would replace newer ones.
                None
            } else {
                Some(kept.answers.entry(question).or_default().clone())
            }
        };
        match cell {
            Some(cell) => cell
                .get_or_try_init(|| async { compute().await.map(Arc::new) })
                .await
                .cloned(),
            None => compute().await.map(Arc::new),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

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
