//! Post-match validators: checks a regex cannot express (checksums, reserved ranges).
//!
//! Each validator takes the matched value and answers "is this plausibly real?". They are named
//! from pack data (`validate = ["luhn"]`); an unknown name fails when the pack loads. Validators
//! never see context: cue words and allowlists are pack data handled by the pattern kind. A
//! validator rejects what is structurally impossible or reserved (a bad checksum, a documentation
//! IP range, SSN area 666); curated lists of example values stay in `rules/pii.toml`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The closed set of validators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validator {
    /// Payment card checksum.
    Luhn,
    /// Payment card: 13-19 digits, consistent separators, known issuer prefix, Luhn.
    Card,
    /// Not all the same digit and not a run like 123456789.
    NotTrivialDigits,
    /// IBAN: known country, that country's length, mod-97 check.
    Iban,
    /// US SSN: no 000/666/9xx area, no 00 group, no 0000 serial, not an advertised number.
    Ssn,
    /// An IPv4 or IPv6 address that is publicly routable (not private, loopback, documentation...).
    PublicIp,
    /// A phone number: NANP rules for +1 / 10-digit numbers, 8-15 digits otherwise.
    Phone,
    /// A real calendar date with a plausible year of birth.
    Date,
    /// A random-looking token: enough distinct characters, no placeholder runs.
    Entropy,
    /// An identity document number: at least 5 digits, not trivial.
    IdNumber,
    /// A PEM private key block with a real, untruncated base64 body.
    Pem,
    /// A JWT whose header and payload decode to JSON objects and whose claims are not a
    /// documentation sample (`"name": "John Doe"`, `"sub": "1234567890"`).
    Jwt,
}

impl Validator {
    pub fn parse(name: &str) -> Option<Validator> {
        match name {
            "luhn" => Some(Validator::Luhn),
            "card" => Some(Validator::Card),
            "not-trivial-digits" => Some(Validator::NotTrivialDigits),
            "iban" => Some(Validator::Iban),
            "ssn" => Some(Validator::Ssn),
            "public-ip" => Some(Validator::PublicIp),
            "phone" => Some(Validator::Phone),
            "date" => Some(Validator::Date),
            "entropy" => Some(Validator::Entropy),
            "id-number" => Some(Validator::IdNumber),
            "pem" => Some(Validator::Pem),
            "jwt" => Some(Validator::Jwt),
            _ => None,
        }
    }

    pub fn check(self, value: &str) -> bool {
        match self {
            Validator::Luhn => luhn(value),
            Validator::Card => card(value),
            Validator::NotTrivialDigits => !trivial_digits(value),
            Validator::Iban => iban(value),
            Validator::Ssn => ssn(value),
            Validator::PublicIp => public_ip(value),
            Validator::Phone => phone(value),
            Validator::Date => date(value),
            Validator::Entropy => entropy(value),
            Validator::IdNumber => id_number(value),
            Validator::Pem => pem(value),
            Validator::Jwt => jwt(value),
        }
    }
}

/// Digits of `value`, ignoring separators.
pub fn digits(value: &str) -> Vec<u8> {
    value
        .bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| b - b'0')
        .collect()
}

fn digit_string(value: &str) -> String {
    value.chars().filter(char::is_ascii_digit).collect()
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
                if y > 9 {
                    y - 9
                } else {
                    y
                }
            } else {
                x
            }
        })
        .sum();
    sum.is_multiple_of(10)
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

/// A run of `n` or more same or consecutive digits anywhere (`...000000...`, `...123456...`).
fn has_run(value: &str, n: usize) -> bool {
    let d = digits(value);
    d.windows(n).any(|w| {
        w.iter().all(|x| *x == w[0])
            || w.windows(2).all(|p| (p[0] + 1) % 10 == p[1])
            || w.windows(2).all(|p| (p[1] + 1) % 10 == p[0])
    })
}

/// Payment card: length, one kind of separator, issuer prefix, Luhn.
pub fn card(value: &str) -> bool {
    let d = digit_string(value);
    let len = d.len();
    if !(13..=19).contains(&len) || trivial_digits(&d) || !luhn(&d) {
        return false;
    }
    let seps: Vec<char> = value.chars().filter(|c| !c.is_ascii_digit()).collect();
    if seps.windows(2).any(|w| w[0] != w[1]) {
        return false;
    }
    let p = |n: usize| d.get(..n).and_then(|s| s.parse::<u32>().ok()).unwrap_or(0);
    match d.as_bytes()[0] {
        b'4' => matches!(len, 13 | 16 | 19),
        b'5' => {
            (51..=55).contains(&p(2)) && len == 16
                || (p(2) == 50 || (56..=59).contains(&p(2))) && (12..=19).contains(&len)
        }
        b'2' => (2221..=2720).contains(&p(4)) && len == 16,
        b'3' => {
            (p(2) == 34 || p(2) == 37) && len == 15
                || ((300..=305).contains(&p(3)) || p(2) == 36 || p(2) == 38 || p(2) == 39)
                    && (14..=19).contains(&len)
                || (3528..=3589).contains(&p(4)) && (16..=19).contains(&len)
        }
        b'6' => {
            (p(4) == 6011
                || (644..=649).contains(&p(3))
                || p(2) == 65
                || p(2) == 62
                || (60..=69).contains(&p(2)))
                && (16..=19).contains(&len)
        }
        _ => false,
    }
}

/// IBAN lengths by country (ISO 13616 registry).
const IBAN_LENGTHS: &[(&str, usize)] = &[
    ("AD", 24),
    ("AE", 23),
    ("AL", 28),
    ("AT", 20),
    ("AZ", 28),
    ("BA", 20),
    ("BE", 16),
    ("BG", 22),
    ("BH", 22),
    ("BR", 29),
    ("BY", 28),
    ("CH", 21),
    ("CR", 22),
    ("CY", 28),
    ("CZ", 24),
    ("DE", 22),
    ("DK", 18),
    ("DO", 28),
    ("EE", 20),
    ("EG", 29),
    ("ES", 24),
    ("FI", 18),
    ("FO", 18),
    ("FR", 27),
    ("GB", 22),
    ("GE", 22),
    ("GI", 23),
    ("GL", 18),
    ("GR", 27),
    ("GT", 28),
    ("HR", 21),
    ("HU", 28),
    ("IE", 22),
    ("IL", 23),
    ("IQ", 23),
    ("IS", 26),
    ("IT", 27),
    ("JO", 30),
    ("KW", 30),
    ("KZ", 20),
    ("LB", 28),
    ("LC", 32),
    ("LI", 21),
    ("LT", 20),
    ("LU", 20),
    ("LV", 21),
    ("MC", 27),
    ("MD", 24),
    ("ME", 22),
    ("MK", 19),
    ("MR", 27),
    ("MT", 31),
    ("MU", 30),
    ("NL", 18),
    ("NO", 15),
    ("PK", 24),
    ("PL", 28),
    ("PS", 29),
    ("PT", 25),
    ("QA", 29),
    ("RO", 24),
    ("RS", 22),
    ("SA", 24),
    ("SC", 31),
    ("SE", 24),
    ("SI", 19),
    ("SK", 24),
    ("SM", 27),
    ("ST", 25),
    ("SV", 28),
    ("TL", 23),
    ("TN", 24),
    ("TR", 26),
    ("UA", 29),
    ("VA", 22),
    ("VG", 24),
    ("XK", 20),
];

/// IBAN: the country's length and the ISO 7064 mod-97 check.
pub fn iban(value: &str) -> bool {
    let s: String = value
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect::<String>()
        .to_ascii_uppercase();
    if s.len() < 15 || !s.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return false;
    }
    let Some(&(_, len)) = IBAN_LENGTHS.iter().find(|(c, _)| s.starts_with(c)) else {
        return false;
    };
    if s.len() != len || !s.as_bytes()[2..4].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let (head, tail) = s.split_at(4);
    let mut rem: u32 = 0;
    for b in tail.bytes().chain(head.bytes()) {
        let v = if b.is_ascii_digit() {
            (b - b'0') as u32
        } else {
            (b - b'A') as u32 + 10
        };
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    rem == 1
}

/// US SSN validity (SSA randomization rules) minus advertised/sample numbers.
pub fn ssn(value: &str) -> bool {
    let d = digit_string(value);
    if d.len() != 9 || trivial_digits(&d) {
        return false;
    }
    let (area, group, serial) = (&d[..3], &d[3..5], &d[5..]);
    let reserved = area == "000"
        || area == "666"
        || area.starts_with('9')
        || group == "00"
        || serial == "0000";
    !reserved
        && !matches!(
            d.as_str(),
            "123456789" | "078051120" | "219099999" | "457555462" | "111223333"
        )
}

/// Publicly routable IPv4 or IPv6 (std::net parsing; reserved ranges rejected).
pub fn public_ip(value: &str) -> bool {
    match value.parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => public_v4(v4),
        Ok(IpAddr::V6(v6)) => public_v6(v6),
        Err(_) => false,
    }
}

fn public_v4(ip: Ipv4Addr) -> bool {
    let o = ip.octets();
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_unspecified()
        || ip.is_multicast()
        || o[0] == 0
        || o[0] >= 240
        // Shared address space 100.64.0.0/10, benchmarking 198.18.0.0/15, IETF 192.0.0.0/24.
        || (o[0] == 100 && (64..128).contains(&o[1]))
        || (o[0] == 198 && (o[1] == 18 || o[1] == 19))
        || (o[0] == 192 && o[1] == 0 && o[2] == 0)
        // Documentation: TEST-NET-1/2/3.
        || (o[0] == 192 && o[1] == 0 && o[2] == 2)
        || (o[0] == 198 && o[1] == 51 && o[2] == 100)
        || (o[0] == 203 && o[1] == 0 && o[2] == 113))
}

fn public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return public_v4(v4);
    }
    let s = ip.segments();
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
        || (s[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation 2001:db8::/32
        || (s[0] & 0xe000) != 0x2000) // only global unicast 2000::/3 is public
}

/// Phone validity on the digits: NANP rules for +1 and bare 10-digit numbers, 8-15 digits
/// (E.164) otherwise; long same/consecutive runs are placeholders.
pub fn phone(value: &str) -> bool {
    let d = digit_string(value);
    let international = value.trim_start().starts_with('+');
    let nanp = if international {
        d.starts_with('1') && d.len() == 11
    } else {
        d.len() == 10 || (d.len() == 11 && d.starts_with('1'))
    };
    if has_run(&d, 6) || trivial_digits(&d) {
        return false;
    }
    if nanp {
        let n = &d[d.len() - 10..];
        let b = n.as_bytes();
        let (area, exchange) = (&n[..3], &n[3..6]);
        let n11 = |x: &str| x.as_bytes()[1] == b'1' && x.as_bytes()[2] == b'1';
        return b[0] >= b'2'
            && b[3] >= b'2'
            && !n11(area)
            && area != "555"
            // 555-0100..0199 are reserved for fiction, and the rest of the 555 exchange is what
            // films and generated data use: nobody's real line.
            && exchange != "555"
            // x9x area codes are reserved for expansion.
            && area.as_bytes()[1] != b'9';
    }
    if international {
        return (8..=15).contains(&d.len());
    }
    // National formats without a country code (`020 7946 0958`): plausible length only.
    (9..=12).contains(&d.len())
}

/// A calendar date in a common notation with a plausible birth year for a living data subject
/// (1930 to 2026); earlier dates in prompts are historical figures.
pub fn date(value: &str) -> bool {
    let Some((y, m, d)) = parse_date(value) else {
        return false;
    };
    if !(1930..=2026).contains(&y) || !(1..=12).contains(&m) || d == 0 {
        return false;
    }
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    d <= days[(m - 1) as usize]
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

fn month_name(word: &str) -> Option<u32> {
    let w = word.trim_end_matches('.').to_ascii_lowercase();
    if w.len() < 3 {
        return None;
    }
    MONTHS
        .iter()
        .position(|m| w.starts_with(m))
        .map(|i| i as u32 + 1)
}

/// (year, month, day) from `1985-03-14`, `03/14/1985`, `14.03.1985`, `March 14, 1985`,
/// `14 March 1985`. Slash dates are read month-first unless the first part exceeds 12.
fn parse_date(value: &str) -> Option<(u32, u32, u32)> {
    let parts: Vec<&str> = value
        .split(|c: char| c == '-' || c == '/' || c == '.' || c == ',' || c.is_whitespace())
        .filter(|p| !p.is_empty())
        .collect();
    if parts.len() != 3 {
        return None;
    }
    let num = |s: &str| -> Option<u32> {
        if s.bytes().all(|b| b.is_ascii_digit()) {
            s.parse().ok()
        } else {
            None
        }
    };
    let year = |s: &str| -> Option<u32> {
        let y = num(s)?;
        match s.len() {
            4 => Some(y),
            2 => Some(if y > 26 { 1900 + y } else { 2000 + y }),
            _ => None,
        }
    };
    if let Some(m) = month_name(parts[0]) {
        let day = num(parts[1].trim_end_matches(|c: char| c.is_ascii_alphabetic()))?;
        return Some((year(parts[2])?, m, day));
    }
    if let Some(m) = month_name(parts[1]) {
        let day = num(parts[0].trim_end_matches(|c: char| c.is_ascii_alphabetic()))?;
        return Some((year(parts[2])?, m, day));
    }
    let (a, b, c) = (num(parts[0])?, num(parts[1])?, num(parts[2])?);
    if parts[0].len() == 4 {
        return Some((a, b, c));
    }
    let y = year(parts[2])?;
    if value.contains('.') || a > 12 {
        Some((y, b, a))
    } else {
        Some((y, a, b))
    }
}

/// A random-looking token: digits and letters mixed, Shannon entropy of at least 3.0 bits per
/// character, at least 8 distinct characters, and no run of 5+ repeated characters
/// (`sk-xxxxxxxx`, `AKIA0000...`, `sk-your-api-key-here`).
pub fn entropy(value: &str) -> bool {
    let body: Vec<u8> = value.bytes().filter(u8::is_ascii_alphanumeric).collect();
    // Random base62 of this length virtually always mixes digits and letters.
    if body.len() < 16
        || !body.iter().any(u8::is_ascii_digit)
        || !body.iter().any(u8::is_ascii_alphabetic)
    {
        return false;
    }
    if body
        .windows(5)
        .any(|w| w.iter().all(|c| c.eq_ignore_ascii_case(&w[0])))
    {
        return false;
    }
    let mut counts = [0usize; 256];
    for &b in &body {
        counts[b as usize] += 1;
    }
    let n = body.len() as f64;
    let distinct = counts.iter().filter(|c| **c > 0).count();
    let h: f64 = counts
        .iter()
        .filter(|c| **c > 0)
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum();
    distinct >= 8 && h >= 3.0
}

/// An identity document number: at least 5 digits and not a trivial run.
pub fn id_number(value: &str) -> bool {
    let d = digit_string(value);
    d.len() >= 5 && !trivial_digits(&d) && !has_run(&d, 6)
}

/// A PEM private key with a body: at least 100 base64 characters between the armour lines,
/// random-looking, and not elided (`...`). Escaped newlines (`\\n` in JSON) count as newlines.
pub fn pem(value: &str) -> bool {
    let text = value.replace("\\n", "\n");
    let body: String = text
        .lines()
        .filter(|l| !l.contains("-----") && !l.contains(':'))
        .flat_map(|l| l.chars())
        .filter(|c| !c.is_whitespace())
        .collect();
    if body.contains("...") || body.contains('\u{2026}') {
        return false;
    }
    let b64 = body
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '+' || *c == '/')
        .count();
    b64 >= 100 && entropy(&body)
}

/// Decodes unpadded base64url; `None` on any other character.
fn base64url(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for b in s.bytes() {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            b'=' => break,
            _ => return None,
        };
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// Claims that only appear in documentation samples (jwt.io and library READMEs).
const SAMPLE_CLAIMS: &[&str] = &[
    "john doe",
    "jane doe",
    "\"1234567890\"",
    "\"foo\"",
    "example.com",
    "\"test\"",
];

/// A JWT: header and payload decode to JSON objects, the header names an algorithm, and the
/// claims are not a documentation sample.
pub fn jwt(value: &str) -> bool {
    let mut parts = value.split('.');
    let (Some(h), Some(p), Some(sig)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let (Some(header), Some(payload)) = (base64url(h), base64url(p)) else {
        return false;
    };
    let (header, payload) = (
        String::from_utf8_lossy(&header).to_string(),
        String::from_utf8_lossy(&payload).to_lowercase(),
    );
    if !header.trim_start().starts_with('{')
        || !header.contains("\"alg\"")
        || !payload.trim_start().starts_with('{')
    {
        return false;
    }
    !SAMPLE_CLAIMS.iter().any(|c| payload.contains(c)) && entropy(sig)
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

    #[test]
    fn card_vectors() {
        for (v, ok) in [
            ("4539 1488 0343 6467", true),  // Visa
            ("5425-2334-3010-9903", true),  // Mastercard 51-55
            ("2223 0031 2200 3222", true),  // Mastercard 2-series
            ("3714 496353 98431", true),    // Amex 4-6-5
            ("6011 0009 9013 9424", true),  // Discover
            ("3530111333300000", true),     // JCB
            ("4539 1488 0343 6468", false), // bad checksum
            ("4539-1488 0343-6467", false), // mixed separators
            ("1234 5678 9012 3452", false), // no issuer starts with 1
            ("7992 7398 7130 0000", false), // 7: no issuer
            ("0000 0000 0000 0000", false), // trivial
            ("453914880343", false),        // 12 digits
            ("3782822463100050", false),    // Amex prefix with 16 digits
        ] {
            assert_eq!(card(v), ok, "{v}");
        }
    }

    #[test]
    fn iban_vectors() {
        for (v, ok) in [
            ("GB82 WEST 1234 5698 7654 32", true),
            ("DE89370400440532013000", true),
            ("FR14 2004 1010 0505 0001 3M02 606", true),
            ("NL91ABNA0417164300", true),
            ("GB82 WEST 1234 5698 7654 33", false), // checksum
            ("DE8937040044053201300", false),       // DE is 22 long
            ("ZZ82WEST12345698765432", false),      // unknown country
            ("GB00 0000 0000 0000 0000 00", false),
        ] {
            assert_eq!(iban(v), ok, "{v}");
        }
    }

    #[test]
    fn ssn_vectors() {
        for (v, ok) in [
            ("536-22-1487", true),
            ("772-31-0845", true),
            ("000-12-3456", false),
            ("666-12-3456", false),
            ("912-34-5678", false),
            ("536-00-1487", false),
            ("536-22-0000", false),
            ("123-45-6789", false),
            ("078-05-1120", false),
            ("111-11-1111", false),
            ("536-22-148", false),
        ] {
            assert_eq!(ssn(v), ok, "{v}");
        }
    }

    #[test]
    fn public_ip_vectors() {
        for (v, ok) in [
            ("73.158.64.21", true),
            ("8.8.8.8", true),
            ("2a03:2880:f12f:83:face:b00c:0:25de", true),
            ("10.0.0.12", false),
            ("172.16.4.1", false),
            ("192.168.1.20", false),
            ("127.0.0.1", false),
            ("169.254.10.1", false),
            ("192.0.2.44", false),
            ("198.51.100.7", false),
            ("203.0.113.9", false),
            ("0.0.0.0", false),
            ("255.255.255.255", false),
            ("100.64.1.1", false),
            ("224.0.0.1", false),
            ("2001:db8::1", false),
            ("::1", false),
            ("fe80::1ff:fe23:4567:890a", false),
            ("fd12:3456:789a::1", false),
            ("::ffff:192.168.1.1", false),
            ("1.2.3", false),
            ("12:30:45", false),
        ] {
            assert_eq!(public_ip(v), ok, "{v}");
        }
    }

    #[test]
    fn phone_vectors() {
        for (v, ok) in [
            ("(415) 867-2341", true),
            ("415-867-2341", true),
            ("+1 415 867 2341", true),
            ("+14158672341", true),
            ("+44 20 7946 1234", true),
            ("+49 30 901820", true),
            ("(415) 555-0142", false), // reserved fictional range
            ("212-555-0199", false),
            ("555-867-2341", false),   // 555 area code
            ("(212) 555-2368", false), // fictional 555 exchange
            ("123-456-7890", false),   // area starts with 1, sequential
            ("(800) 123-4567", false),
            ("415-067-2341", false), // exchange starts with 0
            ("000-000-0000", false),
            ("+44 1234 567890", false), // 234567 run
            ("+49 123", false),
        ] {
            assert_eq!(phone(v), ok, "{v}");
        }
    }

    #[test]
    fn date_vectors() {
        for (v, ok) in [
            ("1985-03-14", true),
            ("03/14/1985", true),
            ("14/03/1985", true),
            ("14.03.1985", true),
            ("March 14, 1985", true),
            ("14 March 1985", true),
            ("Feb 29, 1988", true),
            ("Feb 29, 1989", false),
            ("1985-13-01", false),
            ("13/13/1985", false),
            ("1850-01-01", false),
            ("1903-06-25", false),
            ("2031-01-01", false),
            ("1985-03", false),
            ("1985/03/14", true),
            ("14-Mar-1985", true),
            ("1926-04-28", false),
        ] {
            assert_eq!(date(v), ok, "{v}");
        }
    }

    #[test]
    fn entropy_vectors() {
        for (v, ok) in [
            ("sk-proj-4fG7hJ2kL9mN3pQ8rS1tU6vW0xY5zA2bC7dE", true),
            ("AKIAZ7QX4M2PLWR9TB3K", true),
            ("sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", false),
            ("sk-your-api-key-goes-here", false),
            ("AKIA0000000000000000", false),
            ("abcabcabcabcabcabc", false),
        ] {
            assert_eq!(entropy(v), ok, "{v}");
        }
    }

    #[test]
    fn pem_vectors() {
        let body = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKjMzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvuNMoSfm76oqFvAp8Gy0iz5sxjZmSnXyCdPEovGhLa0VzMaQ8s+CLOyS56YyCFGeJZ";
        let key = format!("-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----");
        assert!(pem(&key));
        assert!(pem(&key.replace('\n', "\\n")));
        assert!(!pem(
            "-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----"
        ));
        assert!(!pem(
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA...\n-----END RSA PRIVATE KEY-----"
        ));
        assert!(!pem(
            "-----BEGIN PRIVATE KEY-----\n<your private key here>\n-----END PRIVATE KEY-----"
        ));
    }

    #[test]
    fn jwt_vectors() {
        for (v, ok) in [
            ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1XzgyNzMiLCJlbWFpbCI6ImRAbi5pbyJ9.Xq7mZ2xVbN4cR8tY1uW6pL3sK9dF0gJ5", true),
            // jwt.io sample (sub 1234567890, John Doe)
            ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c", false),
            // {"foo":"bar","name":"John Doe"}
            ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJmb28iOiJiYXIiLCJuYW1lIjoiSm9obiBEb2UifQ.EsrL8lIcYJR_Ns-JuhF3VCllCP7xwbpMCCfHin_WT6U", false),
            ("eyJhbGciOi.eyJzdWIiOi.abcdefghijklmnopqrstuv", false),
        ] {
            assert_eq!(jwt(v), ok, "{v}");
        }
    }

    #[test]
    fn id_number_vectors() {
        for (v, ok) in [
            ("X48213907", true),
            ("D4829-17305", true),
            ("123456789", false),
            ("A1234", false),
            ("000000000", false),
        ] {
            assert_eq!(id_number(v), ok, "{v}");
        }
    }
}
