//! The replicas behind the gateway and the one way it asks them: the replica that owns
//! a key, the one that knows the caller, or every one at once.

use std::future::Future;

use futures::future::try_join_all;
use helpdesk_api::ApiError;
use helpdesk_projections::Partition;
use tonic::metadata::MetadataMap;
use tonic::transport::Channel;
use tonic::{Code, Request, Response, Status};
use uuid::Uuid;

/// The replicas of one read model, in partition order.
#[derive(Clone)]
pub struct Upstream {
    pub channels: Vec<Channel>,
}

impl Upstream {
    pub fn count(&self) -> u32 {
        self.channels.len() as u32
    }

    /// The replica that owns `key`.
    pub fn owner(&self, key: Uuid) -> Channel {
        let count = self.count();
        (0..count)
            .find(|index| {
                Partition {
                    index: *index,
                    count,
                }
                .owns(key)
            })
            .map(|index| self.channels[index as usize].clone())
            .unwrap_or_else(|| self.first())
    }

    /// The replica that owns the key `id` names; the first for a malformed one (whose
    /// refusal names the field).
    pub fn owner_of(&self, id: &str) -> Channel {
        match Uuid::parse_str(id) {
            Ok(key) => self.owner(key),
            Err(_) => self.first(),
        }
    }

    pub fn first(&self) -> Channel {
        self.channels[0].clone()
    }

    /// Every replica's answer to the same question; the first error stops it.
    pub async fn every<T, F, Fut>(&self, ask: F) -> Result<Vec<T>, Status>
    where
        F: Fn(Channel) -> Fut,
        Fut: Future<Output = Result<Response<T>, Status>>,
    {
        let answers = try_join_all(self.channels.iter().cloned().map(ask)).await?;
        Ok(answers.into_iter().map(Response::into_inner).collect())
    }

    /// The answer about `agent_id` (empty: the caller's own agent, whose partition the
    /// gateway cannot know: the answer of the replica that knows them).
    pub async fn about_agent<T, F, Fut>(
        &self,
        agent_id: &str,
        ask: F,
    ) -> Result<Response<T>, Status>
    where
        F: Fn(Channel) -> Fut,
        Fut: Future<Output = Result<Response<T>, Status>>,
    {
        if !agent_id.is_empty() {
            return ask(self.owner_of(agent_id)).await;
        }
        let answers = futures::future::join_all(self.channels.iter().cloned().map(ask)).await;
        let mut not_found = None;
        for answer in answers {
            match answer {
                Ok(response) => return Ok(response),
                Err(status) if status.code() == Code::NotFound => not_found = Some(status),
                Err(status) => return Err(status),
            }
        }
        Err(not_found.unwrap_or_else(|| ApiError::not_found("agent not found").into()))
    }
}

/// `message` with the caller's credentials (and deadline) passed on.
pub fn pass<T>(metadata: &MetadataMap, message: T) -> Request<T> {
    let mut request = Request::new(message);
    for key in ["authorization", "grpc-timeout"] {
        if let Some(value) = metadata.get(key) {
            request.metadata_mut().insert(key, value.clone());
        }
    }
    request
}

/// A closure asking one replica `$method` with `$message` and the caller's metadata.
macro_rules! ask {
    ($client:ident, $method:ident, $metadata:expr, $message:expr) => {
        |channel| {
            let request = $crate::gateway::upstream::pass($metadata, $message);
            async move { $client::new(channel).$method(request).await }
        }
    };
}
pub(crate) use ask;
