//! The public help page, rendered on the server so it works with JavaScript
//! turned off (Tor Browser's safest mode). With JavaScript, `help.js` (built
//! from `web/src/help/`) seals the request in the browser instead and the
//! form never reaches [`submit_form`].
//!
//! Every string comes from the catalogues in `i18n/`; every value written into
//! the page is escaped. No cookie is ever set, nothing is loaded from another
//! origin, and the Content-Security-Policy forbids inline script and style.
//! What a requester types reaches this process only on the no-JavaScript path:
//! it is sealed here, in memory, and only the sealed copy is stored.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use axum::extract::rejection::FormRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use northstar_crypto::intake::{self, Codename};
use northstar_protocol::ErrorCode;
use rand::RngCore;
use rand::rngs::OsRng;
use zeroize::Zeroizing;

use crate::error::ApiError;
use crate::intake::{
    check_requester_blob, desk, requester_messages, start_conversation, thread_for,
};
use crate::state::{AppState, now};

/// `default-src 'none'` and nothing else from anywhere but this origin.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     connect-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; \
     base-uri 'none'; frame-ancestors 'none'";

/// The longest answer to one question, in characters (the story may be longer).
const MAX_FIELD_CHARS: usize = 2_000;
const MAX_STORY_CHARS: usize = 10_000;

const HELP_JS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/web/help/assets/help.js"));
const HELP_CSS: &str = include_str!("../assets/help.css");

type Catalogue = BTreeMap<String, String>;

/// The languages of the page, in the order the switcher lists them.
static CATALOGUES: LazyLock<Vec<(&'static str, Catalogue)>> = LazyLock::new(|| {
    [
        ("en", include_str!("../i18n/help.en.json")),
        ("ru", include_str!("../i18n/help.ru.json")),
        ("ar", include_str!("../i18n/help.ar.json")),
    ]
    .into_iter()
    .map(|(code, raw)| {
        (
            code,
            serde_json::from_str(raw).expect("the help catalogues are valid JSON (tested)"),
        )
    })
    .collect()
});

/// The strings of one language, falling back to English key by key.
struct Messages {
    code: &'static str,
    strings: &'static Catalogue,
}

impl Messages {
    fn pick(asked: Option<&str>, headers: &HeaderMap) -> Self {
        let wanted = asked.map(str::to_owned).or_else(|| {
            headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.to_owned())
        });
        let found = wanted.and_then(|w| {
            w.split(',')
                .map(|tag| {
                    tag.split(';')
                        .next()
                        .unwrap_or("")
                        .trim()
                        .to_ascii_lowercase()
                })
                .find_map(|tag| {
                    CATALOGUES
                        .iter()
                        .find(|(code, _)| tag == *code || tag.starts_with(&format!("{code}-")))
                })
        });
        let (code, strings) = found.unwrap_or(&CATALOGUES[0]);
        Messages { code, strings }
    }

    fn get<'a>(&'a self, key: &'a str) -> &'a str {
        self.strings
            .get(key)
            .or_else(|| CATALOGUES[0].1.get(key))
            .map(String::as_str)
            .unwrap_or(key)
    }

    /// A string, escaped for HTML.
    fn t(&self, key: &str) -> String {
        escape(self.get(key))
    }
}

/// Escape text for an HTML element or a quoted attribute.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A response with the headers every page served to a browser carries: its
/// type, `csp`, no sniffing, no referrer, no framing, and `cache`.
pub(crate) fn browser_response(
    status: StatusCode,
    content_type: &'static str,
    csp: &'static str,
    cache: &'static str,
    body: impl IntoResponse,
) -> Response {
    let mut response = (status, body).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(csp),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    response
}

/// The headers of the public intake: nothing a requester sees may stay in a
/// cache on a device that can be seized.
fn with_page_headers(
    status: StatusCode,
    content_type: &'static str,
    body: impl IntoResponse,
) -> Response {
    browser_response(
        status,
        content_type,
        CONTENT_SECURITY_POLICY,
        "no-store",
        body,
    )
}

fn page(m: &Messages, status: StatusCode, title_key: &str, body: &str) -> Response {
    page_at(m, status, title_key, body, "/help")
}

/// A page whose language links lead back to `here` (`/help` or `/help/return`).
fn page_at(m: &Messages, status: StatusCode, title_key: &str, body: &str, here: &str) -> Response {
    let languages: String = CATALOGUES
        .iter()
        .map(|(code, strings)| {
            let name = escape(strings.get("language_name").map(String::as_str).unwrap_or(code));
            if *code == m.code {
                format!("<li><span aria-current=\"true\">{name}</span></li>")
            } else {
                format!("<li><a href=\"{here}?lang={code}\" hreflang=\"{code}\" lang=\"{code}\">{name}</a></li>")
            }
        })
        .collect();
    // The strings the script needs, as data: `<` escaped so no text can close the block.
    let script_messages = serde_json::to_string(m.strings)
        .unwrap_or_else(|_| "{}".into())
        .replace('<', "\\u003c");
    let html = format!(
        "<!doctype html>\n<html lang=\"{code}\" dir=\"{dir}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n<title>{title}</title>\n\
         <link rel=\"stylesheet\" href=\"/help/assets/help.css\">\n\
         <script type=\"application/json\" id=\"help-messages\">{script_messages}</script>\n\
         <script type=\"module\" src=\"/help/assets/help.js\"></script>\n</head>\n<body>\n\
         <nav aria-label=\"{language}\"><ul class=\"languages\">{languages}</ul></nav>\n\
         <main>\n<h1>{title}</h1>\n{body}\n</main>\n</body>\n</html>\n",
        code = m.code,
        dir = m.t("dir"),
        title = m.t(title_key),
        language = m.t("language"),
    );
    with_page_headers(status, "text/html; charset=utf-8", html)
}

fn notice(m: &Messages, status: StatusCode, title_key: &str, text: &str) -> Response {
    let body = format!(
        "<p class=\"notice\" role=\"alert\">{text}</p>\n<p><a href=\"/help?lang={code}\">{back}</a></p>",
        code = m.code,
        back = m.t("back"),
    );
    page(m, status, title_key, &body)
}

/// The request form, with what the requester typed if it is shown again.
fn request_form(m: &Messages, typed: &Typed) -> String {
    let field = |name: &str, value: &str| {
        format!(
            "<p><label for=\"{name}\">{label}</label>\n<small id=\"{name}-hint\">{hint}</small>\n\
             <input type=\"text\" id=\"{name}\" name=\"{name}\" maxlength=\"{MAX_FIELD_CHARS}\" \
             aria-describedby=\"{name}-hint\" autocomplete=\"off\" value=\"{value}\"></p>",
            label = m.t(&format!("{name}_label")),
            hint = m.t(&format!("{name}_hint")),
            value = escape(value),
        )
    };
    let urgency: String = ["emergency", "urgent", "normal"]
        .iter()
        .map(|u| {
            let selected = if typed.urgency == *u { " selected" } else { "" };
            format!(
                "<option value=\"{u}\"{selected}>{}</option>",
                m.t(&format!("urgency_{u}"))
            )
        })
        .collect();
    format!(
        "<section aria-labelledby=\"will\"><h2 id=\"will\">{will}</h2><ul><li>{w1}</li><li>{w2}</li><li>{w3}</li></ul>\n\
         <h2>{wont}</h2><ul><li>{n1}</li><li>{n2}</li><li>{n3}</li></ul></section>\n\
         <form id=\"help-form\" method=\"post\" action=\"/help\" accept-charset=\"utf-8\">\n\
         <h2>{form_title}</h2>\n<input type=\"hidden\" name=\"lang\" value=\"{code}\">\n\
         {contact}\n{when}\n{where_}\n\
         <p><label for=\"what\">{what_label}</label>\n<small id=\"what-hint\">{what_hint}</small>\n\
         <textarea id=\"what\" name=\"what\" rows=\"8\" maxlength=\"{MAX_STORY_CHARS}\" aria-describedby=\"what-hint\">{what}</textarea></p>\n\
         <p><label for=\"urgency\">{urgency_label}</label>\n<select id=\"urgency\" name=\"urgency\">{urgency}</select></p>\n\
         {referral}\n<p><button type=\"submit\">{submit}</button></p>\n</form>\n\
         <p id=\"help-status\" role=\"status\" aria-live=\"polite\"></p>\n\
         <section id=\"help-result\" hidden><h2>{result_title}</h2><p>{codename_label}</p>\
         <p><code id=\"help-codename\"></code></p><p>{keep}</p><p id=\"help-path\"></p></section>\n\
         <p><a href=\"/help/return?lang={code}\">{return_link}</a></p>",
        will = m.t("will_title"),
        w1 = m.t("will_1"),
        w2 = m.t("will_2"),
        w3 = m.t("will_3"),
        wont = m.t("wont_title"),
        n1 = m.t("wont_1"),
        n2 = m.t("wont_2"),
        n3 = m.t("wont_3"),
        form_title = m.t("form_title"),
        code = m.code,
        contact = field("contact", &typed.contact),
        when = field("when", &typed.when),
        where_ = field("where", &typed.place),
        what_label = m.t("what_label"),
        what_hint = m.t("what_hint"),
        what = escape(&typed.what),
        urgency_label = m.t("urgency_label"),
        referral = field("referral", &typed.referral),
        submit = m.t("submit"),
        result_title = m.t("result_title"),
        codename_label = m.t("codename_label"),
        keep = m.t("codename_keep"),
        return_link = m.t("return_link"),
    )
}

#[derive(serde::Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
}

pub async fn show_form(Query(q): Query<LangQuery>, headers: HeaderMap) -> Response {
    let m = Messages::pick(q.lang.as_deref(), &headers);
    let body = format!(
        "<p class=\"lead\">{}</p>\n{}",
        m.t("lead"),
        request_form(&m, &Typed::default())
    );
    page(&m, StatusCode::OK, "title", &body)
}

/// What a requester typed into the form. Zeroized when dropped.
#[derive(Default)]
struct Typed {
    contact: Zeroizing<String>,
    when: Zeroizing<String>,
    place: Zeroizing<String>,
    what: Zeroizing<String>,
    urgency: String,
    referral: String,
    lang: Option<String>,
    codename: Zeroizing<String>,
}

impl Typed {
    fn from_form(fields: Vec<(String, String)>) -> Self {
        let mut typed = Typed {
            urgency: "normal".into(),
            ..Typed::default()
        };
        for (name, value) in fields {
            let value = Zeroizing::new(value);
            match name.as_str() {
                "contact" => typed.contact = value,
                "when" => typed.when = value,
                "where" => typed.place = value,
                "what" => typed.what = value,
                "urgency" if matches!(value.as_str(), "emergency" | "urgent" | "normal") => {
                    typed.urgency = value.to_string()
                }
                "referral" => typed.referral = value.trim().to_owned(),
                "lang" => typed.lang = Some(value.to_string()),
                "codename" => typed.codename = value,
                _ => {}
            }
        }
        typed
    }

    fn too_long(&self) -> bool {
        [&self.contact, &self.when, &self.place]
            .iter()
            .any(|f| f.chars().count() > MAX_FIELD_CHARS)
            || self.referral.chars().count() > MAX_FIELD_CHARS
            || self.what.chars().count() > MAX_STORY_CHARS
    }

    /// The plaintext that is sealed: the same JSON the page's script seals.
    fn request_json(&self, lang: &str) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(
            serde_json::to_vec(&serde_json::json!({
                "contact": self.contact.as_str(),
                "when": self.when.as_str(),
                "where": self.place.as_str(),
                "what": self.what.as_str(),
                "urgency": self.urgency,
                "lang": lang,
            }))
            .expect("strings serialize"),
        )
    }
}

/// The slow derivation of a codename's keys, off the async threads and one at a time.
async fn derive_codename_keys(
    state: &AppState,
    codename: Codename,
    org: northstar_crypto::OrgId,
) -> Result<(Codename, intake::CodenameKeys), ApiError> {
    let _slot = state
        .intake
        .argon_slots
        .acquire()
        .await
        .map_err(|_| ApiError::new(ErrorCode::RateLimited, "busy"))?;
    tokio::task::spawn_blocking(move || {
        let keys = intake::codename_keys(&codename, &org);
        (codename, keys)
    })
    .await
    .map_err(|_| ApiError::new(ErrorCode::Internal, "deriving the codename's keys failed"))
}

async fn org_id(state: &AppState) -> Result<northstar_crypto::OrgId, ApiError> {
    let org = state.store.get_org().await?.ok_or_else(|| {
        ApiError::new(
            ErrorCode::NotFound,
            "this organization has not opened its help desk yet",
        )
    })?;
    Ok(northstar_crypto::OrgId(org.org_id))
}

/// Map an API error to a page in the requester's language.
fn error_page(m: &Messages, e: ApiError) -> Response {
    let (status, key) = match e.code {
        ErrorCode::RateLimited => (StatusCode::TOO_MANY_REQUESTS, "error_busy"),
        ErrorCode::NotFound => (StatusCode::NOT_FOUND, "error_no_desk"),
        ErrorCode::PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "error_too_long"),
        ErrorCode::Internal => (StatusCode::INTERNAL_SERVER_ERROR, "error_failed"),
        _ => (StatusCode::BAD_REQUEST, "error_failed"),
    };
    if status.is_server_error() {
        tracing::error!(code = %e.code, message = %e.message, "help page failed");
    }
    notice(m, status, "title", &m.t(key))
}

/// What a form post typed, and the language to answer in; or the page saying
/// the form could not be read.
fn read_form(
    form: Result<axum::Form<Vec<(String, String)>>, FormRejection>,
    headers: &HeaderMap,
    title_key: &str,
) -> Result<(Typed, Messages), Box<Response>> {
    let Ok(axum::Form(fields)) = form else {
        let m = Messages::pick(None, headers);
        return Err(Box::new(notice(
            &m,
            StatusCode::BAD_REQUEST,
            title_key,
            &m.t("error_bad_form"),
        )));
    };
    let typed = Typed::from_form(fields);
    let m = Messages::pick(typed.lang.as_deref(), headers);
    Ok((typed, m))
}

/// The no-JavaScript path: seal what was typed, here, in memory.
pub async fn submit_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<axum::Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    let (typed, m) = match read_form(form, &headers, "title") {
        Ok(read) => read,
        Err(refused) => return *refused,
    };
    if typed.too_long() {
        let body = format!(
            "<p class=\"notice\" role=\"alert\">{}</p>\n{}",
            m.t("error_too_long"),
            request_form(&m, &typed)
        );
        return page(&m, StatusCode::PAYLOAD_TOO_LARGE, "title", &body);
    }
    if typed.what.trim().is_empty() && typed.contact.trim().is_empty() {
        let body = format!(
            "<p class=\"notice\" role=\"alert\">{}</p>\n{}",
            m.t("error_what_missing"),
            request_form(&m, &typed)
        );
        return page(&m, StatusCode::BAD_REQUEST, "title", &body);
    }
    match seal_on_receipt(&state, &typed, m.code).await {
        Ok((codename, referral_refused)) => {
            let refused = if referral_refused {
                format!("<p class=\"notice\">{}</p>", m.t("referral_unknown"))
            } else {
                String::new()
            };
            let body = format!(
                "{refused}<section id=\"help-result\"><h2>{}</h2><p>{}</p>\
                 <p><code id=\"help-codename\">{}</code></p><p>{}</p><p id=\"help-path\">{}</p></section>\n\
                 <p><a href=\"/help/return?lang={code}\">{}</a></p>",
                m.t("result_title"),
                m.t("codename_label"),
                escape(codename.expose()),
                m.t("codename_keep"),
                m.t("server_path"),
                m.t("return_link"),
                code = m.code,
            );
            page(&m, StatusCode::OK, "result_title", &body)
        }
        Err(e) => {
            if e.code == ErrorCode::RateLimited {
                let body = format!(
                    "<p class=\"notice\" role=\"alert\">{}</p>\n{}",
                    m.t("error_busy"),
                    request_form(&m, &typed)
                );
                return page(&m, StatusCode::TOO_MANY_REQUESTS, "title", &body);
            }
            error_page(&m, e)
        }
    }
}

/// Returns the new codename and whether a referral code was given but refused.
async fn seal_on_receipt(
    state: &AppState,
    typed: &Typed,
    lang: &str,
) -> Result<(Codename, bool), ApiError> {
    state.intake.allow_new_request()?;
    state.intake.allow_server_sealing()?;
    let desk = desk(state).await?;
    let org = org_id(state).await?;
    let (codename, keys) = derive_codename_keys(state, Codename::generate(&mut OsRng), org).await?;
    let mut conversation_id = [0u8; 16];
    OsRng.fill_bytes(&mut conversation_id);
    let public: [u8; 32] =
        desk.public_key.as_slice().try_into().map_err(|_| {
            ApiError::new(ErrorCode::Internal, "the stored intake key is not 32 bytes")
        })?;
    let sealed = intake::seal_request(
        &org,
        desk.generation,
        &public,
        &conversation_id,
        &typed.request_json(lang),
        &mut OsRng,
    )
    .map_err(|_| ApiError::new(ErrorCode::Internal, "sealing the request failed"))?;
    check_requester_blob(&desk, &sealed)?;
    let referred = !typed.referral.is_empty()
        && state
            .store
            .use_referral(&intake::referral_hash(&typed.referral))
            .await?;
    start_conversation(
        state,
        conversation_id,
        intake::access_hash(keys.access()),
        keys.reply_public(),
        "server",
        referred,
        &sealed,
    )
    .await?;
    Ok((codename, !typed.referral.is_empty() && !referred))
}

fn return_form(m: &Messages) -> String {
    format!(
        "<p class=\"lead\">{lead}</p>\n<form id=\"return-form\" method=\"post\" action=\"/help/return\" accept-charset=\"utf-8\">\n\
         <input type=\"hidden\" name=\"lang\" value=\"{code}\">\n\
         <p><label for=\"codename\">{field}</label>\n<input type=\"text\" id=\"codename\" name=\"codename\" \
         autocomplete=\"off\" autocapitalize=\"none\" spellcheck=\"false\" maxlength=\"200\"></p>\n\
         <p><button type=\"submit\">{submit}</button></p>\n</form>\n\
         <p id=\"help-status\" role=\"status\" aria-live=\"polite\"></p>\n\
         <section id=\"return-result\" hidden><p id=\"return-summary\"></p><ol id=\"return-replies\"></ol></section>\n\
         {message_form}\n<p><a href=\"/help?lang={code}\">{back}</a></p>",
        lead = m.t("return_lead"),
        code = m.code,
        field = m.t("codename_field"),
        submit = m.t("return_submit"),
        message_form = message_form(m, "", true),
        back = m.t("back"),
    )
}

fn message_form(m: &Messages, codename: &str, hidden: bool) -> String {
    format!(
        "<form id=\"message-form\" method=\"post\" action=\"/help/message\" accept-charset=\"utf-8\"{hidden}>\n\
         <h2>{title}</h2>\n<input type=\"hidden\" name=\"lang\" value=\"{code}\">\n\
         <input type=\"hidden\" name=\"codename\" value=\"{codename}\">\n\
         <p><label for=\"message-what\">{what}</label>\n<textarea id=\"message-what\" name=\"what\" rows=\"6\" maxlength=\"{MAX_STORY_CHARS}\"></textarea></p>\n\
         <p><button type=\"submit\">{submit}</button></p>\n</form>",
        hidden = if hidden { " hidden" } else { "" },
        title = m.t("message_title"),
        code = m.code,
        codename = escape(codename),
        what = m.t("what_label"),
        submit = m.t("message_submit"),
    )
}

pub async fn show_return(Query(q): Query<LangQuery>, headers: HeaderMap) -> Response {
    let m = Messages::pick(q.lang.as_deref(), &headers);
    page_at(
        &m,
        StatusCode::OK,
        "return_title",
        &return_form(&m),
        "/help/return",
    )
}

/// The conversation a typed codename opens, with the codename's keys. Every
/// wrong codename costs the same Argon2id and gets the same answer.
async fn open_conversation(
    state: &AppState,
    typed: &str,
) -> Result<
    (
        Codename,
        intake::CodenameKeys,
        northstar_store::IntakeThread,
        northstar_crypto::OrgId,
    ),
    ApiError,
> {
    let codename =
        Codename::parse(typed).map_err(|_| ApiError::new(ErrorCode::BadRequest, "codename"))?;
    let org = org_id(state).await?;
    let (codename, keys) = derive_codename_keys(state, codename, org).await?;
    let thread = thread_for(state, keys.access()).await?;
    Ok((codename, keys, thread, org))
}

fn codename_error(m: &Messages, e: ApiError) -> Response {
    match e.code {
        ErrorCode::BadRequest => notice(
            m,
            StatusCode::BAD_REQUEST,
            "return_title",
            &m.t("error_codename"),
        ),
        ErrorCode::NotFound => notice(
            m,
            StatusCode::NOT_FOUND,
            "return_title",
            &m.t("return_nothing"),
        ),
        _ => error_page(m, e),
    }
}

/// The no-JavaScript return: the server opens the replies in memory with the codename.
pub async fn submit_return(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<axum::Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    let (typed, m) = match read_form(form, &headers, "return_title") {
        Ok(read) => read,
        Err(refused) => return *refused,
    };
    let (codename, keys, thread, org) = match open_conversation(&state, &typed.codename).await {
        Ok(found) => found,
        Err(e) => return codename_error(&m, e),
    };
    let replies: Vec<String> = thread
        .replies
        .iter()
        .filter_map(|r| {
            keys.open_reply(&org, &thread.conversation.conversation_id, &r.sealed)
                .ok()
                .map(|text| {
                    format!(
                        "<li><time>{}</time><p class=\"reply\">{}</p></li>",
                        northstar_core::time::format_utc(r.created_at),
                        escape(&String::from_utf8_lossy(&text))
                    )
                })
        })
        .collect();
    let summary = m
        .get("return_summary")
        .replace("{sent}", &requester_messages(&thread).to_string())
        .replace("{replies}", &replies.len().to_string());
    let list = if replies.is_empty() {
        format!("<p>{}</p>", m.t("return_no_replies"))
    } else {
        format!("<ol id=\"return-replies\">{}</ol>", replies.concat())
    };
    let body = format!(
        "<section id=\"return-result\"><p id=\"return-summary\">{}</p>{list}</section>\n{}\n<p><a href=\"/help?lang={}\">{}</a></p>",
        escape(&summary),
        message_form(&m, codename.expose(), false),
        m.code,
        m.t("back"),
    );
    page(&m, StatusCode::OK, "return_title", &body)
}

/// The no-JavaScript follow-up message.
pub async fn submit_message(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<axum::Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    let (typed, m) = match read_form(form, &headers, "message_title") {
        Ok(read) => read,
        Err(refused) => return *refused,
    };
    if typed.what.trim().is_empty() {
        return notice(
            &m,
            StatusCode::BAD_REQUEST,
            "message_title",
            &m.t("error_what_missing"),
        );
    }
    if typed.too_long() {
        return notice(
            &m,
            StatusCode::PAYLOAD_TOO_LARGE,
            "message_title",
            &m.t("error_too_long"),
        );
    }
    if let Err(e) = state.intake.allow_server_sealing() {
        return error_page(&m, e);
    }
    let (_codename, _keys, thread, org) = match open_conversation(&state, &typed.codename).await {
        Ok(found) => found,
        Err(e) => return codename_error(&m, e),
    };
    let sent = async {
        let desk = desk(&state).await?;
        let public: [u8; 32] = desk.public_key.as_slice().try_into().map_err(|_| {
            ApiError::new(ErrorCode::Internal, "the stored intake key is not 32 bytes")
        })?;
        let message = Typed {
            what: typed.what.clone(),
            urgency: String::new(),
            ..Typed::default()
        };
        let sealed = intake::seal_request(
            &org,
            desk.generation,
            &public,
            &thread.conversation.conversation_id,
            &message.request_json(m.code),
            &mut OsRng,
        )
        .map_err(|_| ApiError::new(ErrorCode::Internal, "sealing the message failed"))?;
        check_requester_blob(&desk, &sealed)?;
        state
            .store
            .append_intake_entry(&thread.conversation.conversation_id, &sealed, now())
            .await?;
        Ok::<_, ApiError>(())
    }
    .await;
    match sent {
        Ok(()) => notice(&m, StatusCode::OK, "message_title", &m.t("message_sent")),
        Err(e) => error_page(&m, e),
    }
}

pub async fn script() -> Response {
    let mut r = with_page_headers(StatusCode::OK, "text/javascript; charset=utf-8", HELP_JS);
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}

pub async fn stylesheet() -> Response {
    let mut r = with_page_headers(StatusCode::OK, "text/css; charset=utf-8", HELP_CSS);
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalogue_has_every_key_of_the_english_one_and_a_direction() {
        let english = &CATALOGUES[0].1;
        for (code, strings) in CATALOGUES.iter() {
            let missing: Vec<&String> = english
                .keys()
                .filter(|k| !strings.contains_key(*k))
                .collect();
            assert!(missing.is_empty(), "{code} lacks {missing:?}");
            assert!(matches!(strings["dir"].as_str(), "ltr" | "rtl"), "{code}");
        }
        assert_eq!(
            CATALOGUES.iter().find(|(c, _)| *c == "ar").unwrap().1["dir"],
            "rtl"
        );
    }

    #[test]
    fn the_language_comes_from_the_query_then_the_browser_then_english() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT_LANGUAGE,
            HeaderValue::from_static("de-DE,ru;q=0.8"),
        );
        assert_eq!(Messages::pick(None, &headers).code, "ru");
        assert_eq!(Messages::pick(Some("ar"), &headers).code, "ar");
        assert_eq!(Messages::pick(Some("xx"), &HeaderMap::new()).code, "en");
    }

    #[test]
    fn text_is_escaped_for_elements_and_attributes() {
        assert_eq!(
            escape("<script>\"a\" & 'b'</script>"),
            "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/script&gt;"
        );
    }
}
