//! Properties the issue names: tampering, moving, wrong generations, broken chains
//! and forged membership links are all refused, and refused by name.

mod support;

use northstar_core::{Compartment, Role};
use northstar_crypto::chain::verify_chain;
use northstar_crypto::envelope::{ChainPosition, RecordAddress, open_record};
use northstar_crypto::grant::{CompartmentKey, Keyring};
use northstar_crypto::identity::{AuthorKey, MemberSecretKeys};
use northstar_crypto::membership::{LinkAction, MembershipState, found_organization, sign_link};
use northstar_crypto::sig::SigningSecret;
use northstar_crypto::{AccountId, ObjectId, OrgId, RecordId};
use proptest::prelude::*;
use support::CaseFixture;

const START: ChainPosition = ChainPosition {
    seq: 0,
    prev_hash: [0; 32],
};

#[test]
fn every_single_bit_flip_of_an_entry_or_its_wrap_is_rejected() {
    let mut f = CaseFixture::new(1);
    let address = f.address(Compartment::Identity);
    let sealed = f.seal(address, START, b"{\"legal_name\":\"Zelimkhan\"}");
    let keyring = f.keyring(&address);
    let author = AuthorKey::new(f.author.public()).unwrap();
    assert!(open_record(&sealed.entry, &sealed.wrap, &address, &keyring, &author).is_ok());
    for bit in 0..sealed.entry.len() * 8 {
        let mut entry = sealed.entry.clone();
        entry[bit / 8] ^= 1 << (bit % 8);
        let err = open_record(&entry, &sealed.wrap, &address, &keyring, &author)
            .expect_err("a flipped entry bit must be refused");
        assert!(
            matches!(
                err.code(),
                "signature" | "malformed" | "unsupported" | "unexpected-signer"
            ),
            "entry bit {bit}: {err}"
        );
    }
    for bit in 0..sealed.wrap.len() * 8 {
        let mut wrap = sealed.wrap.clone();
        wrap[bit / 8] ^= 1 << (bit % 8);
        let err = open_record(&sealed.entry, &wrap, &address, &keyring, &author)
            .expect_err("a flipped wrap bit must be refused");
        assert!(
            matches!(
                err.code(),
                "decrypt" | "malformed" | "unsupported" | "context-mismatch"
            ),
            "wrap bit {bit}: {err}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn random_records_open_and_any_flip_is_rejected(
        plaintext in proptest::collection::vec(any::<u8>(), 0..600),
        seed in any::<u64>(),
        where_ in any::<prop::sample::Index>(),
        bit in 0u8..8,
    ) {
        let mut f = CaseFixture::new(seed);
        let address = f.address(Compartment::Story);
        let sealed = f.seal(address, START, &plaintext);
        let keyring = f.keyring(&address);
        let author = AuthorKey::new(f.author.public()).unwrap();
        let opened = open_record(&sealed.entry, &sealed.wrap, &address, &keyring, &author).unwrap();
        prop_assert_eq!(&*opened.plaintext, &plaintext);
        let mut entry = sealed.entry.clone();
        let i = where_.index(entry.len());
        entry[i] ^= 1 << bit;
        prop_assert!(open_record(&entry, &sealed.wrap, &address, &keyring, &author).is_err());
    }

    #[test]
    fn a_record_moved_to_another_case_compartment_or_id_is_rejected(
        seed in any::<u64>(),
        other in any::<[u8; 16]>(),
        compartment_index in 0usize..7,
    ) {
        let mut f = CaseFixture::new(seed);
        let address = f.address(Compartment::Identity);
        let sealed = f.seal(address, START, b"secret");
        let author = AuthorKey::new(f.author.public()).unwrap();
        let moves = [
            RecordAddress { case: ObjectId(other), ..address },
            RecordAddress { org: OrgId(other), ..address },
            RecordAddress { record: RecordId(other), ..address },
            RecordAddress { compartment: Compartment::OF_CASE[compartment_index], ..address },
        ];
        for moved in moves {
            if moved == address { continue; }
            let err = open_record(&sealed.entry, &sealed.wrap, &moved, &f.keyring(&moved), &author).unwrap_err();
            prop_assert_eq!(err.code(), "context-mismatch");
        }
    }

    #[test]
    fn a_dropped_duplicated_or_swapped_chain_entry_is_named(n in 3usize..10, pick in any::<prop::sample::Index>(), seed in any::<u64>()) {
        let mut f = CaseFixture::new(seed);
        let chain = f.chain(n);
        prop_assert!(verify_chain(f.org, f.case, None, &chain).is_ok());
        let i = 1 + pick.index(n - 2); // an inner entry: 1..n-1

        let mut dropped = chain.clone();
        dropped.remove(i);
        let err = verify_chain(f.org, f.case, None, &dropped).unwrap_err();
        prop_assert_eq!(err.code(), "chain-gap");
        prop_assert!(err.to_string().contains(&format!("{i}")), "{}", err);

        let mut duplicated = chain.clone();
        duplicated.insert(i, chain[i].clone());
        let err = verify_chain(f.org, f.case, None, &duplicated).unwrap_err();
        prop_assert_eq!(err.code(), "chain-duplicate");
        prop_assert!(err.to_string().contains(&format!("entry {i}")), "{}", err);

        let mut swapped = chain.clone();
        swapped.swap(i, i + 1);
        let err = verify_chain(f.org, f.case, None, &swapped).unwrap_err();
        prop_assert_eq!(err.code(), "chain-reordered");
    }
}

#[test]
fn a_record_sealed_under_another_generation_is_rejected() {
    let mut f = CaseFixture::new(7);
    let address = f.address(Compartment::Travel);
    let sealed = f.seal(address, START, b"itinerary");
    let author = AuthorKey::new(f.author.public()).unwrap();
    // The reader holds only a later generation.
    let mut later = Keyring::new(address.compartment_ref());
    later.insert(CompartmentKey::from_bytes(f.generation + 1, [3; 32]));
    let err = open_record(&sealed.entry, &sealed.wrap, &address, &later, &author).unwrap_err();
    assert_eq!(err.code(), "unknown-generation");
    // The reader holds a key labelled with the right generation but it is not the right key.
    let mut wrong = Keyring::new(address.compartment_ref());
    wrong.insert(CompartmentKey::from_bytes(f.generation, [3; 32]));
    let err = open_record(&sealed.entry, &sealed.wrap, &address, &wrong, &author).unwrap_err();
    assert_eq!(err.code(), "decrypt");
}

struct Org {
    root: SigningSecret,
    state: MembershipState,
    links: Vec<Vec<u8>>,
    members: Vec<(AccountId, MemberSecretKeys)>,
}

impl Org {
    fn new(rng: &mut rand_chacha::ChaCha20Rng) -> Self {
        let root = SigningSecret::generate(rng);
        let admin = (AccountId::random(rng), MemberSecretKeys::generate(rng));
        let links = found_organization(
            OrgId::random(rng),
            "Org",
            &root,
            1,
            (admin.0, "admin0", admin.1.public()),
        )
        .unwrap();
        let state = MembershipState::verify(&root.public_key(), &links).unwrap();
        Org {
            root,
            state,
            links,
            members: vec![admin],
        }
    }
    fn link(&self, action: LinkAction, signer: &SigningSecret) -> Vec<u8> {
        sign_link(&self.state.next_link(2, action), signer)
    }
    fn push(&mut self, action: LinkAction, signer_index: usize) {
        let link = self.link(action, self.members[signer_index].1.signing());
        self.state.apply(&link).unwrap();
        self.links.push(link);
    }
    fn add(&mut self, rng: &mut rand_chacha::ChaCha20Rng, role: Role, by: usize) -> usize {
        let m = (AccountId::random(rng), MemberSecretKeys::generate(rng));
        let name = format!("member{}", self.members.len());
        let action = LinkAction::Add {
            account: m.0,
            name,
            role,
            keys: m.1.public(),
        };
        self.members.push(m);
        self.push(action, by);
        self.members.len() - 1
    }
    fn verify_with(
        &self,
        extra: Vec<u8>,
    ) -> Result<MembershipState, northstar_crypto::MembershipError> {
        let mut links = self.links.clone();
        links.push(extra);
        MembershipState::verify(&self.root.public_key(), &links)
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn a_link_signed_by_a_removed_or_never_added_member_is_rejected(seed in any::<u64>(), extra_members in 0usize..4) {
        use rand::SeedableRng;
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
        let mut org = Org::new(&mut rng);
        for _ in 0..extra_members { org.add(&mut rng, Role::Caseworker, 0); }
        let removed = org.add(&mut rng, Role::Admin, 0);
        org.push(LinkAction::Remove { account: org.members[removed].0 }, 0);
        let newcomer = MemberSecretKeys::generate(&mut rng);
        let add_newcomer = LinkAction::Add { account: AccountId::random(&mut rng), name: "newcomer".into(), role: Role::Admin, keys: newcomer.public() };

        let by_removed = org.link(add_newcomer.clone(), org.members[removed].1.signing());
        prop_assert_eq!(org.verify_with(by_removed).unwrap_err().code(), "membership-signer-removed");

        let stranger = SigningSecret::generate(&mut rng);
        let by_stranger = org.link(add_newcomer.clone(), &stranger);
        prop_assert_eq!(org.verify_with(by_stranger).unwrap_err().code(), "membership-signer-unknown");

        // The newcomer signing their own admission is a never-added member too.
        let by_self = org.link(add_newcomer.clone(), newcomer.signing());
        prop_assert_eq!(org.verify_with(by_self).unwrap_err().code(), "membership-signer-unknown");

        let by_admin = org.link(add_newcomer, org.members[0].1.signing());
        prop_assert!(org.verify_with(by_admin).is_ok());
    }
}
