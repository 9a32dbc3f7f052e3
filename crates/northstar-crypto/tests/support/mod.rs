//! One place that builds a small organization with a case, for the integration tests.
#![allow(dead_code)]

use northstar_core::Compartment;
use northstar_crypto::envelope::{
    ChainPosition, RecordAddress, SealedRecord, entry_hash, seal_record,
};
use northstar_crypto::grant::{CompartmentKey, Keyring};
use northstar_crypto::identity::MemberSecretKeys;
use northstar_crypto::{ObjectId, OrgId, RecordId};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

pub struct CaseFixture {
    pub rng: ChaCha20Rng,
    pub org: OrgId,
    pub case: ObjectId,
    pub author: MemberSecretKeys,
    pub key_bytes: [u8; 32],
    pub generation: u32,
}

impl CaseFixture {
    pub fn new(seed: u64) -> Self {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let org = OrgId::random(&mut rng);
        let case = ObjectId::random(&mut rng);
        let author = MemberSecretKeys::generate(&mut rng);
        let mut key_bytes = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rng, &mut key_bytes);
        CaseFixture {
            rng,
            org,
            case,
            author,
            key_bytes,
            generation: 1,
        }
    }

    pub fn key(&self) -> CompartmentKey {
        CompartmentKey::from_bytes(self.generation, self.key_bytes)
    }

    pub fn address(&mut self, compartment: Compartment) -> RecordAddress {
        RecordAddress {
            org: self.org,
            case: self.case,
            compartment,
            record: RecordId::random(&mut self.rng),
        }
    }

    pub fn keyring(&self, address: &RecordAddress) -> Keyring {
        let mut k = Keyring::new(address.compartment_ref());
        k.insert(self.key());
        k
    }

    pub fn seal(
        &mut self,
        address: RecordAddress,
        position: ChainPosition,
        plaintext: &[u8],
    ) -> SealedRecord {
        let key = self.key();
        seal_record(
            address,
            1,
            position,
            &key,
            &self.author,
            plaintext,
            &mut self.rng,
        )
        .unwrap()
    }

    /// A chain of `n` entries across the case's compartments.
    pub fn chain(&mut self, n: usize) -> Vec<Vec<u8>> {
        let mut prev = [0u8; 32];
        (0..n)
            .map(|i| {
                let compartment = Compartment::OF_CASE[i % Compartment::OF_CASE.len()];
                let address = self.address(compartment);
                let e = self
                    .seal(
                        address,
                        ChainPosition {
                            seq: i as u64,
                            prev_hash: prev,
                        },
                        format!("entry {i}").as_bytes(),
                    )
                    .entry;
                prev = entry_hash(&e);
                e
            })
            .collect()
    }
}
