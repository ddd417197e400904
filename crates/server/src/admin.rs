//! `helpdesk.v1.AdminService`: tokens (definitions, recompute and settings join it as
//! their issues land).

use std::sync::Arc;

use helpdesk_api::{pb, AdminService, ApiError, IntoCommand};
use tonic::{Request, Response, Status};

use crate::auth::{self, new_token, token_hash};
use crate::commands::{execute, response};
use crate::engine::Engine;

#[derive(Clone)]
pub struct AdminApi {
    engine: Arc<Engine>,
}

impl AdminApi {
    pub fn new(engine: Arc<Engine>) -> Self {
        AdminApi { engine }
    }
}

#[tonic::async_trait]
impl AdminService for AdminApi {
    async fn issue_token(
        &self,
        request: Request<pb::IssueTokenRequest>,
    ) -> Result<Response<pb::IssueTokenResponse>, Status> {
        let principal = auth::authenticate(&self.engine, request.metadata())
            .await
            .map_err(ApiError::from)?;
        let secret = new_token();
        let parsed = helpdesk_api::convert::issue_token(request.into_inner(), token_hash(&secret))?;
        let helpdesk_domain::Command::IssueToken(issue) = &parsed.command else {
            unreachable!("issue_token makes an IssueToken command")
        };
        let token_id = issue.token_id.to_string();
        let outcome = execute(&self.engine, &principal, parsed).await?;
        // A duplicate did not store this secret: handing it out would hand out nothing.
        let token = if outcome.duplicate {
            String::new()
        } else {
            secret
        };
        tracing::info!(token_id, duplicate = outcome.duplicate, "token issued");
        Ok(Response::new(pb::IssueTokenResponse {
            result: Some(response(outcome)),
            token_id,
            token,
        }))
    }

    async fn revoke_token(
        &self,
        request: Request<pb::RevokeTokenRequest>,
    ) -> Result<Response<pb::CommandResponse>, Status> {
        let principal = auth::authenticate(&self.engine, request.metadata())
            .await
            .map_err(ApiError::from)?;
        let parsed = request.into_inner().into_command(principal.agent)?;
        let outcome = execute(&self.engine, &principal, parsed).await?;
        Ok(Response::new(response(outcome)))
    }
}
