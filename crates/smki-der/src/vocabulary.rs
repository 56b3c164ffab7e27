//! The one way a stable code is declared.

/// Declares a vocabulary: a `#[non_exhaustive]` enum whose variants each carry their stable
/// name, written once. The enum serialises and deserialises as those names (serde renames),
/// and gets `ALL` (every variant, in declaration order), `as_str`, `parse` and `Display`.
/// The crate that uses it depends on `serde` (with `derive`).
///
/// ```
/// smki_der::vocabulary! {
///     /// How a thing ended.
///     #[derive(PartialOrd, Ord)]
///     pub enum Ending {
///         /// It worked.
///         Done = "DONE",
///         GaveUp = "GAVE_UP",
///     }
/// }
/// assert_eq!(Ending::GaveUp.as_str(), "GAVE_UP");
/// assert_eq!(Ending::parse("DONE"), Some(Ending::Done));
/// assert_eq!(Ending::ALL, [Ending::Done, Ending::GaveUp]);
/// ```
#[macro_export]
macro_rules! vocabulary {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $code:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ::serde::Serialize, ::serde::Deserialize)]
        #[non_exhaustive]
        $vis enum $name {
            $( $(#[$vmeta])* #[serde(rename = $code)] $variant, )+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable name.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $code,)+
                }
            }

            /// The variant of a stable name.
            pub fn parse(name: &str) -> Option<$name> {
                $name::ALL.iter().copied().find(|v| v.as_str() == name)
            }
        }

        impl ::core::fmt::Display for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.pad(self.as_str())
            }
        }
    };
}
