//! The simulated population: device types, remote-party roles, manufacturers' EUI-64
//! ranges, and the deterministic per-index randomness everything derives from.
use rand_chacha::rand_core::SeedableRng;
use sha2::Digest;

/// splitmix64 finaliser.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A 64-bit hash of (seed, domain, index): the cheap per-index decisions.
pub(crate) fn h(seed: u64, domain: u64, index: u64) -> u64 {
    mix(mix(mix(seed) ^ domain.wrapping_mul(0xd6e8_feb8_6659_fd93)) ^ index)
}

/// A uniform value in [0, 1) from (seed, domain, index).
pub(crate) fn unit(seed: u64, domain: u64, index: u64) -> f64 {
    (h(seed, domain, index) >> 11) as f64 / (1u64 << 53) as f64
}

/// A ChaCha RNG for (seed, domain, index): key material and serials.
pub(crate) fn rng(seed: u64, domain: &str, index: u64) -> rand_chacha::ChaCha12Rng {
    let mut hasher = sha2::Sha256::new();
    hasher.update(b"smki-sim/v1/");
    hasher.update(domain.as_bytes());
    hasher.update(seed.to_be_bytes());
    hasher.update(index.to_be_bytes());
    rand_chacha::ChaCha12Rng::from_seed(hasher.finalize().into())
}

// Decision domains.
pub(crate) const D_KIND: u64 = 1;
pub(crate) const D_TYPE: u64 = 2;
pub(crate) const D_CA: u64 = 3;
pub(crate) const D_INJECT: u64 = 4;
pub(crate) const D_LIFECYCLE: u64 = 5;
pub(crate) const D_STATUS: u64 = 6;
pub(crate) const D_VARIANT: u64 = 7;
pub(crate) const D_ROLE: u64 = 8;
pub(crate) const D_UPDATE: u64 = 9;
pub(crate) const D_MANUFACTURER: u64 = 10;

/// A device type holding SMKI device certificates (a DS and a KA certificate each).
/// In-home displays are not here: they are GBCS Type 2 devices, which hold no SMKI
/// certificates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeviceType {
    /// Electricity smart metering equipment.
    Esme,
    /// Gas smart metering equipment.
    Gsme,
    /// Communications hub function.
    Chf,
    /// Gas proxy function (on the communications hub).
    Gpf,
    /// Prepayment interface device.
    Ppmid,
    /// HAN-connected auxiliary load control switch.
    Hcalcs,
    /// Standalone auxiliary proportional controller.
    Sapc,
}

impl DeviceType {
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceType::Esme => "ESME",
            DeviceType::Gsme => "GSME",
            DeviceType::Chf => "CHF",
            DeviceType::Gpf => "GPF",
            DeviceType::Ppmid => "PPMID",
            DeviceType::Hcalcs => "HCALCS",
            DeviceType::Sapc => "SAPC",
        }
    }

    /// Share of devices, per mille.
    fn weight(self) -> u64 {
        match self {
            DeviceType::Esme => 380,
            DeviceType::Gsme => 280,
            DeviceType::Chf => 140,
            DeviceType::Gpf => 140,
            DeviceType::Ppmid => 40,
            DeviceType::Hcalcs => 15,
            DeviceType::Sapc => 5,
        }
    }

    pub const ALL: &'static [DeviceType] = &[
        DeviceType::Esme,
        DeviceType::Gsme,
        DeviceType::Chf,
        DeviceType::Gpf,
        DeviceType::Ppmid,
        DeviceType::Hcalcs,
        DeviceType::Sapc,
    ];

    pub(crate) fn pick(u: u64) -> DeviceType {
        let mut x = u % 1000;
        for &t in DeviceType::ALL {
            if x < t.weight() {
                return t;
            }
            x -= t.weight();
        }
        DeviceType::Esme
    }

    /// The octet after the manufacturer's OUI in this type's EUI-64 range.
    fn range_octet(self) -> u8 {
        match self {
            DeviceType::Esme => 0x01,
            DeviceType::Gsme => 0x02,
            DeviceType::Chf => 0x10,
            DeviceType::Gpf => 0x11,
            DeviceType::Ppmid => 0x20,
            DeviceType::Hcalcs => 0x30,
            DeviceType::Sapc => 0x31,
        }
    }
}

/// Manufacturers' OUIs (invented for the simulation), by device family.
const METER_MAKERS: &[[u8; 3]] = &[
    [0x00, 0x1a, 0x3c],
    [0x00, 0x24, 0x8b],
    [0x70, 0xb3, 0xd5],
    [0x5c, 0xa1, 0x76],
    [0x00, 0x0d, 0x6f],
];
const HUB_MAKERS: &[[u8; 3]] = &[[0x00, 0x13, 0x50], [0xd0, 0x52, 0xa8], [0x00, 0x1e, 0x5e]];
const AUX_MAKERS: &[[u8; 3]] = &[[0x00, 0x1a, 0x3c], [0x84, 0x18, 0x26]];

/// The EUI-64 of the device numbered `device` (unique per simulation): the manufacturer's
/// OUI, an octet for the device type's range, and a 32-bit serial allocated in sequence
/// from a base per (manufacturer, type), as manufacturers' ranges look.
pub(crate) fn device_eui(seed: u64, device: u64, t: DeviceType) -> [u8; 8] {
    let makers = match t {
        DeviceType::Esme | DeviceType::Gsme => METER_MAKERS,
        DeviceType::Chf | DeviceType::Gpf => HUB_MAKERS,
        _ => AUX_MAKERS,
    };
    let m = (h(seed, D_MANUFACTURER, device) % makers.len() as u64) as usize;
    let oui = makers[m];
    // Base of the range: a round number per (maker, type); the device number keeps EUIs unique.
    let base = ((h(
        seed,
        D_MANUFACTURER,
        1 << 40 | (m as u64) << 8 | t.range_octet() as u64,
    ) % 16) as u32)
        << 24;
    let serial = base.wrapping_add(device as u32);
    let mut eui = [0u8; 8];
    eui[..3].copy_from_slice(&oui);
    eui[3] = t.range_octet() ^ ((device >> 32) as u8);
    eui[4..].copy_from_slice(&serial.to_be_bytes());
    eui
}

/// A remote-party role (the OU of an organisation certificate).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Role {
    /// Two hex digits.
    pub code: &'static str,
    /// Short name for directories and CNs.
    pub name: &'static str,
    weight: u64,
}

pub const ROLES: &[Role] = &[
    Role {
        code: "01",
        name: "recovery",
        weight: 20,
    },
    Role {
        code: "02",
        name: "supplier",
        weight: 430,
    },
    Role {
        code: "03",
        name: "network-operator",
        weight: 160,
    },
    Role {
        code: "04",
        name: "access-control-broker",
        weight: 60,
    },
    Role {
        code: "05",
        name: "transitional-cos",
        weight: 40,
    },
    Role {
        code: "06",
        name: "wan-provider",
        weight: 80,
    },
    Role {
        code: "08",
        name: "load-controller",
        weight: 60,
    },
    Role {
        code: "7F",
        name: "other",
        weight: 150,
    },
];

pub(crate) fn pick_role(u: u64) -> Role {
    let mut x = u % 1000;
    for r in ROLES {
        if x < r.weight {
            return *r;
        }
        x -= r.weight;
    }
    ROLES[1]
}

/// The party's EUI-64, in the DCC's range as in the test certificates (90-B3-D5-1F-3x-...).
pub(crate) fn party_eui(party: u64) -> [u8; 8] {
    let mut eui = [0x90, 0xb3, 0xd5, 0x1f, 0x30, 0, 0, 0];
    eui[4] |= ((party >> 24) & 0x0f) as u8;
    eui[5..].copy_from_slice(&(party as u32).to_be_bytes()[1..]);
    eui
}

/// A party's common name, for the roles whose certificates carry one (the DCC's own roles
/// and some others).
pub(crate) fn party_cn(role: Role, party: u64, u: u64) -> Option<String> {
    match role.code {
        "01" | "04" | "05" | "06" => Some(format!(
            "DCC{}{:04}",
            role.name.replace('-', "").to_ascii_uppercase(),
            party % 10000
        )),
        _ if u % 10 < 4 => Some(format!(
            "{}{:04}",
            role.name.replace('-', "").to_ascii_uppercase(),
            party % 10000
        )),
        _ => None,
    }
}

/// A device's lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lifecycle {
    Installed,
    InStorage,
    InManufacturing,
}

impl Lifecycle {
    pub fn as_str(self) -> &'static str {
        match self {
            Lifecycle::Installed => "installed",
            Lifecycle::InStorage => "in_storage",
            Lifecycle::InManufacturing => "in_manufacturing",
        }
    }
}
