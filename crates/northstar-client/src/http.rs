//! The HTTP side: one method per endpoint, protocol types in and out, and every
//! refusal turned into [`ClientError::Api`] with the server's code.

use northstar_protocol::{self as p, ErrorBody, paths};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{ClientError, Result};

/// A connection to one server, with an optional session token.
#[derive(Clone)]
pub struct Api {
    base: String,
    http: reqwest::Client,
    token: Option<String>,
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Api({}, token {})",
            self.base,
            if self.token.is_some() { "set" } else { "unset" }
        )
    }
}

impl Api {
    pub fn new(base: &str) -> Result<Self> {
        let base = base.trim_end_matches('/').to_owned();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(ClientError::Refused(format!(
                "the server address must start with http:// or https:// (got '{base}')"
            )));
        }
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(60))
            .build()
            .map_err(|e| ClientError::Network {
                url: base.clone(),
                reason: e.to_string(),
            })?;
        Ok(Api {
            base,
            http,
            token: None,
        })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn with_token(mut self, token: Option<String>) -> Self {
        self.token = token;
        self
    }

    pub fn set_token(&mut self, token: Option<String>) {
        self.token = token;
    }

    async fn send<R: DeserializeOwned>(&self, req: reqwest::RequestBuilder) -> Result<R> {
        let req = match &self.token {
            Some(t) => req.bearer_auth(t),
            None => req,
        };
        let res = req.send().await.map_err(|e| ClientError::Network {
            url: self.base.clone(),
            reason: e.without_url().to_string(),
        })?;
        let status = res.status();
        let bytes = res.bytes().await.map_err(|e| ClientError::Network {
            url: self.base.clone(),
            reason: e.without_url().to_string(),
        })?;
        if status.is_success() {
            let body: &[u8] = if bytes.is_empty() { b"null" } else { &bytes };
            serde_json::from_slice(body).map_err(|e| ClientError::Protocol(e.to_string()))
        } else {
            match serde_json::from_slice::<ErrorBody>(&bytes) {
                Ok(err) => Err(ClientError::Api {
                    code: err.code,
                    message: err.message,
                }),
                Err(_) => Err(ClientError::Protocol(format!(
                    "HTTP {status} without an error body"
                ))),
            }
        }
    }

    async fn post<B: Serialize, R: DeserializeOwned>(&self, path: &str, body: &B) -> Result<R> {
        self.send(self.http.post(format!("{}{path}", self.base)).json(body))
            .await
    }

    async fn get<R: DeserializeOwned>(&self, path: &str) -> Result<R> {
        self.send(self.http.get(format!("{}{path}", self.base)))
            .await
    }

    pub async fn org_init_start(&self, b: &p::OrgInitStart) -> Result<p::RegisterStartResponse> {
        self.post(paths::ORG_INIT_START, b).await
    }
    pub async fn org_init_finish(&self, b: &p::OrgInitFinish) -> Result<p::Session> {
        self.post(paths::ORG_INIT_FINISH, b).await
    }
    pub async fn join_start(&self, b: &p::JoinStart) -> Result<p::JoinStartResponse> {
        self.post(paths::JOIN_START, b).await
    }
    pub async fn join_finish(&self, b: &p::JoinFinish) -> Result<p::Session> {
        self.post(paths::JOIN_FINISH, b).await
    }
    pub async fn login_start(&self, b: &p::LoginStart) -> Result<p::LoginStartResponse> {
        self.post(paths::LOGIN_START, b).await
    }
    pub async fn login_finish(&self, b: &p::LoginFinish) -> Result<p::LoginFinishResponse> {
        self.post(paths::LOGIN_FINISH, b).await
    }
    pub async fn logout(&self) -> Result<()> {
        self.post(paths::LOGOUT, &()).await
    }
    pub async fn me(&self) -> Result<p::Me> {
        self.get(paths::ME).await
    }
    pub async fn me_keys(&self) -> Result<p::KeyMaterial> {
        self.get(paths::ME_KEYS).await
    }
    pub async fn org_chain(&self) -> Result<p::OrgChain> {
        self.get(paths::ORG).await
    }
    pub async fn append_link(&self, b: &p::AppendLink) -> Result<()> {
        self.post(paths::ORG_LINKS, b).await
    }
    pub async fn pending(&self) -> Result<Vec<p::PendingMember>> {
        self.get(paths::ORG_PENDING).await
    }
    pub async fn create_invite(&self, b: &p::CreateInvite) -> Result<p::Invite> {
        self.post(paths::INVITES, b).await
    }
    pub async fn invites(&self) -> Result<Vec<p::Invite>> {
        self.get(paths::INVITES).await
    }
    pub async fn create_case(&self, b: &p::CreateCase) -> Result<()> {
        self.post(paths::CASES, b).await
    }
    pub async fn cases(&self, after: Option<&str>) -> Result<p::CaseList> {
        match after {
            Some(a) => self.get(&format!("{}?after={a}", paths::CASES)).await,
            None => self.get(paths::CASES).await,
        }
    }
    pub async fn case_entries(&self, case_id: &str, from: u64, limit: u32) -> Result<p::EntryPage> {
        self.get(&format!(
            "{}?from={from}&limit={limit}",
            paths::case_entries(case_id)
        ))
        .await
    }
    pub async fn append_entry(&self, case_id: &str, b: &p::AppendEntry) -> Result<()> {
        self.post(&paths::case_entries(case_id), b).await
    }
    pub async fn sync_cases(&self, b: &p::SyncRequest) -> Result<p::SyncResponse> {
        self.post(paths::CASES_SYNC, b).await
    }
    pub async fn case_grants(&self, case_id: &str) -> Result<p::CaseGrants> {
        self.get(&paths::case_grants(case_id)).await
    }
    pub async fn intake_desk(&self) -> Result<p::IntakeDesk> {
        self.get(paths::INTAKE_DESK).await
    }
    pub async fn put_intake_desk(&self, b: &p::IntakeDesk) -> Result<()> {
        self.send(
            self.http
                .put(format!("{}{}", self.base, paths::INTAKE_DESK))
                .json(b),
        )
        .await
    }
    pub async fn intake_items(&self) -> Result<p::IntakeItems> {
        self.get(paths::INTAKE_ITEMS).await
    }
    pub async fn intake_note(&self, conversation_id: &str, b: &p::IntakeStaffNote) -> Result<()> {
        self.post(&paths::intake_item_notes(conversation_id), b)
            .await
    }
    pub async fn create_referral(&self, b: &p::CreateReferral) -> Result<()> {
        self.post(paths::INTAKE_REFERRALS, b).await
    }
    pub async fn intake_invite_keys(&self) -> Result<p::InviteIntakeKeys> {
        self.get(paths::INTAKE_INVITE_KEYS).await
    }
    pub async fn change_grants(&self, case_id: &str, b: &p::ChangeGrants) -> Result<()> {
        self.post(&paths::case_grants(case_id), b).await
    }
}
