use utoipa::OpenApi;

use northstar_protocol as p;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Northstar",
        description = "The API of a Northstar server: untrusted storage and coordination for end-to-end encrypted case management. Every byte string is sealed, signed or public; clients verify everything.",
    ),
    paths(
        crate::api::healthz,
        crate::api::openapi,
        crate::api::org_init_start,
        crate::api::org_init_finish,
        crate::api::join_start,
        crate::api::join_finish,
        crate::api::login_start,
        crate::api::login_finish,
        crate::api::logout,
        crate::api::me,
        crate::api::me_keys,
        crate::api::org_chain,
        crate::api::append_link,
        crate::api::pending_members,
        crate::api::create_invite,
        crate::api::list_invites,
        crate::cases::create_case,
        crate::cases::list_cases,
        crate::cases::append_entry,
        crate::cases::entries,
        crate::cases::grants,
        crate::cases::change_grants,
        crate::cases::sync,
        crate::intake::config,
        crate::intake::submit,
        crate::intake::conversation,
        crate::intake::follow_up,
        crate::intake::items,
        crate::intake::get_desk,
        crate::intake::put_desk,
        crate::intake::add_note,
        crate::intake::create_referral,
        crate::intake::invite_keys,
    ),
    components(schemas(p::ErrorBody, p::ErrorCode))
)]
struct ApiDoc;

/// The OpenAPI document, as served at `/api/openapi.json`.
pub fn openapi_json() -> String {
    ApiDoc::openapi()
        .to_pretty_json()
        .expect("the OpenAPI document serializes")
}
