//! Disbursements, read from a case's `finance` fields
//! (`payment.N.amount` in minor units, `.currency`, `.purpose`, `.receipt`,
//! `.on`), and their totals. Amounts are integers of the currency's minor
//! unit (cents), never floating point; totals are kept per currency, since
//! converting would need a rate nobody signed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One disbursement.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    pub number: u32,
    /// In the currency's minor unit (cents).
    pub amount: i64,
    pub currency: String,
    pub purpose: String,
    pub receipt: Option<String>,
    /// `YYYY-MM-DD`.
    pub on: String,
}

/// `120`, `120.5` or `120.50` → 12050. At most two decimals, positive, below
/// ten million units.
pub fn parse_amount(text: &str) -> Result<i64, String> {
    let bad = || format!("'{text}' is not an amount: write it like 120 or 120.50");
    let (units, cents) = match text.trim().split_once('.') {
        Some((u, c)) if (1..=2).contains(&c.len()) => (u, c),
        Some(_) => return Err(bad()),
        None => (text.trim(), "0"),
    };
    if units.is_empty() || !units.chars().all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    if !cents.chars().all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    let units: i64 = units.parse().map_err(|_| bad())?;
    let cents: i64 = if cents.len() == 1 {
        cents.parse::<i64>().map_err(|_| bad())? * 10
    } else {
        cents.parse().map_err(|_| bad())?
    };
    let amount = units
        .checked_mul(100)
        .and_then(|u| u.checked_add(cents))
        .ok_or_else(bad)?;
    if amount <= 0 || amount >= 1_000_000_000 {
        return Err(bad());
    }
    Ok(amount)
}

/// A currency code: three letters (ISO 4217), upper-cased.
pub fn parse_currency(text: &str) -> Result<String, String> {
    if text.len() == 3 && text.chars().all(|c| c.is_ascii_alphabetic()) {
        Ok(text.to_ascii_uppercase())
    } else {
        Err(format!(
            "'{text}' is not a currency: use a three-letter code such as EUR"
        ))
    }
}

/// 12050, "EUR" → "120.50 EUR".
pub fn format_amount(amount: i64, currency: &str) -> String {
    format!("{}.{:02} {currency}", amount / 100, amount % 100)
}

/// The payments in a case's `finance` fields, by number. Incomplete ones
/// (an amount that does not parse, no currency) are left out.
pub fn payments(fields: &BTreeMap<String, String>) -> Vec<Payment> {
    let mut out: BTreeMap<u32, BTreeMap<&str, &str>> = BTreeMap::new();
    for (name, value) in fields {
        let Some(rest) = name.strip_prefix("payment.") else {
            continue;
        };
        let Some((number, field)) = rest.split_once('.') else {
            continue;
        };
        let Ok(number) = number.parse::<u32>() else {
            continue;
        };
        out.entry(number).or_default().insert(field, value);
    }
    out.into_iter()
        .filter_map(|(number, f)| {
            Some(Payment {
                number,
                amount: f.get("amount")?.parse().ok()?,
                currency: (*f.get("currency")?).to_owned(),
                purpose: f
                    .get("purpose")
                    .map(|p| (*p).to_owned())
                    .unwrap_or_default(),
                receipt: f.get("receipt").map(|r| (*r).to_owned()),
                on: f.get("on").map(|d| (*d).to_owned()).unwrap_or_default(),
            })
        })
        .collect()
}

/// Totals per currency.
pub fn totals<'a>(payments: impl IntoIterator<Item = &'a Payment>) -> BTreeMap<String, i64> {
    let mut out = BTreeMap::new();
    for p in payments {
        *out.entry(p.currency.clone()).or_insert(0) += p.amount;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_exact_cents() {
        assert_eq!(parse_amount("120"), Ok(12000));
        assert_eq!(parse_amount("120.5"), Ok(12050));
        assert_eq!(parse_amount("0.07"), Ok(7));
        assert_eq!(format_amount(12050, "EUR"), "120.50 EUR");
        for bad in [
            "", "-5", "0", "1.234", "1,50", "abc", ".5", "5.", "10000000", "1e3",
        ] {
            assert!(parse_amount(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_currency("eur"), Ok("EUR".into()));
        assert!(parse_currency("EURO").is_err());
    }

    #[test]
    fn payments_and_totals_per_currency() {
        let fields: BTreeMap<String, String> = [
            ("payment.1.amount", "12050"),
            ("payment.1.currency", "EUR"),
            ("payment.1.purpose", "bus"),
            ("payment.1.on", "2026-01-02"),
            ("payment.2.amount", "5000"),
            ("payment.2.currency", "USD"),
            ("payment.3.amount", "950"),
            ("payment.3.currency", "EUR"),
            ("payment.4.amount", "oops"),
            ("payment.4.currency", "EUR"),
            ("legal_name", "x"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let list = payments(&fields);
        assert_eq!(list.len(), 3, "the broken one is left out");
        let t = totals(&list);
        assert_eq!(t["EUR"], 13000);
        assert_eq!(t["USD"], 5000);
    }
}
