//! Post-match validators: checks a regex cannot express (checksums, reserved ranges).
//!
//! Each validator takes the matched value and answers "is this plausibly real?". They are named
//! from pack data (`validate = ["luhn"]`); an unknown name fails when the pack loads.

/// The closed set of validators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validator {
    /// Payment card checksum.
    Luhn,
    /// Not all the same digit and not a run like 123456789.
    NotTrivialDigits,
}

impl Validator {
    pub fn parse(name: &str) -> Option<Validator> {
        match name {
            "luhn" => Some(Validator::Luhn),
            "not-trivial-digits" => Some(Validator::NotTrivialDigits),
            _ => None,
        }
    }

    pub fn check(self, value: &str) -> bool {
        match self {
            Validator::Luhn => luhn(value),
            Validator::NotTrivialDigits => !trivial_digits(value),
        }
    }
}

/// Digits of `value`, ignoring separators.
pub fn digits(value: &str) -> Vec<u8> {
    value.bytes().filter(u8::is_ascii_digit).map(|b| b - b'0').collect()
}

/// The Luhn checksum over the digits of `value`.
pub fn luhn(value: &str) -> bool {
    let d = digits(value);
    if d.len() < 2 {
        return false;
    }
    let sum: u32 = d
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &x)| {
            let x = x as u32;
            if i % 2 == 1 {
                let y = x * 2;
                if y > 9 { y - 9 } else { y }
            } else {
                x
            }
        })
        .sum();
    sum % 10 == 0
}

/// All the same digit, or strictly ascending/descending by one (e.g. 0123456789).
pub fn trivial_digits(value: &str) -> bool {
    let d = digits(value);
    if d.len() < 2 {
        return true;
    }
    let same = d.iter().all(|x| *x == d[0]);
    let up = d.windows(2).all(|w| (w[0] + 1) % 10 == w[1]);
    let down = d.windows(2).all(|w| (w[1] + 1) % 10 == w[0]);
    same || up || down
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_vectors() {
        for (v, ok) in [
            ("4539 1488 0343 6467", true),
            ("4111-1111-1111-1111", true),
            ("4242424242424242", true),
            ("378282246310005", true),
            ("4539 1488 0343 6468", false),
            ("1234567812345678", false),
        ] {
            assert_eq!(luhn(v), ok, "{v}");
        }
    }

    #[test]
    fn trivial_vectors() {
        assert!(trivial_digits("000-00-0000"));
        assert!(trivial_digits("123456789"));
        assert!(trivial_digits("9876543210"));
        assert!(!trivial_digits("415-867-2341"));
    }
}
