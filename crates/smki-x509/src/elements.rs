//! The reader the other modules walk a tbsCertificate with: the elements of one
//! constructed element, in order, each read with [`smki_der::read_header`], and the values
//! of the primitive types they hold (INTEGER, BOOLEAN, BIT STRING), read as BER.
use crate::{Error, FieldProblem};
use smki_der::{read_header, Header};

pub(crate) const BAD_BIT_STRING: FieldProblem = FieldProblem::BadValue(
    "BIT STRING unused-bits octet missing, above 7, or not 0 before no bits",
);

/// The elements of one constructed element's contents, read in order with
/// [`read_header`] (offsets within the record; an element may not run past its parent).
pub(crate) struct Elements<'a> {
    der: &'a [u8],
    pos: usize,
    end: usize,
}

impl<'a> Elements<'a> {
    pub(crate) fn of(der: &'a [u8], parent: &Header) -> Self {
        Elements {
            der,
            pos: parent.content.start,
            end: parent.content.end,
        }
    }

    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.pos >= self.end
    }

    /// The identifier octet of the next element, if any.
    #[inline]
    pub(crate) fn peek(&self) -> Option<u8> {
        (!self.is_empty()).then(|| self.der[self.pos])
    }

    #[inline]
    pub(crate) fn next(&mut self) -> Option<Result<Header, smki_der::Error>> {
        if self.is_empty() {
            return None;
        }
        let read = read_header(&self.der[..self.end], self.pos, 0);
        if let Ok(h) = &read {
            self.pos = h.end;
        }
        Some(read)
    }

    /// The next element, which must be there, readable; `element` names it in errors.
    #[inline]
    pub(crate) fn any(&mut self, element: &str) -> Result<Header, Error> {
        let at = self.pos;
        match self.next() {
            None => Err(Error::field(element, FieldProblem::Missing, at)),
            Some(Err(e)) => Err(Error::field(element, FieldProblem::Der(e.kind), e.position)),
            Some(Ok(h)) => Ok(h),
        }
    }

    /// The next element, which must be there and carry `tag`.
    #[inline]
    pub(crate) fn expect(&mut self, tag: u8, element: &str) -> Result<Header, Error> {
        let h = self.any(element)?;
        if h.tag != tag {
            return Err(wrong_tag(element, tag, &h));
        }
        Ok(h)
    }

    /// The next element if it carries `tag` (an OPTIONAL or DEFAULT element).
    #[inline]
    pub(crate) fn optional(&mut self, tag: u8, element: &str) -> Result<Option<Header>, Error> {
        if self.peek() != Some(tag) {
            return Ok(None);
        }
        self.expect(tag, element).map(Some)
    }

    /// Nothing may follow (`element` names the parent).
    #[inline]
    pub(crate) fn end(&self, element: &str) -> Result<(), Error> {
        match self.peek() {
            Some(tag) => Err(Error::field(
                element,
                FieldProblem::Unexpected { tag },
                self.pos,
            )),
            None => Ok(()),
        }
    }

    #[inline]
    pub(crate) fn contents(&self, h: &Header) -> &'a [u8] {
        &self.der[h.content.clone()]
    }
}

pub(crate) fn wrong_tag(element: &str, expected: u8, found: &Header) -> Error {
    Error::field(
        element,
        FieldProblem::WrongTag {
            expected,
            found: found.tag,
        },
        found.offset,
    )
}

/// A non-negative INTEGER's value, if it fits in 64 bits (redundant leading octets allowed).
pub(crate) fn unsigned(content: &[u8]) -> Option<u64> {
    if content.first().is_none_or(|&b| b & 0x80 != 0) {
        return None;
    }
    let digits = &content[content.iter().take_while(|&&b| b == 0).count()..];
    (digits.len() <= 8).then(|| digits.iter().fold(0u64, |n, &b| (n << 8) | u64::from(b)))
}

/// Is this INTEGER content DER (one octet at least, no redundant leading octet)?
pub(crate) fn is_der_integer(content: &[u8]) -> bool {
    match content {
        [] => false,
        [0x00, b, ..] => b & 0x80 != 0,
        [0xff, b, ..] => b & 0x80 == 0,
        _ => true,
    }
}

/// A BOOLEAN's value: one octet, any non-zero octet TRUE (BER; DER wants 0xFF).
pub(crate) fn boolean(content: &[u8]) -> Option<bool> {
    match content {
        [b] => Some(*b != 0),
        _ => None,
    }
}

/// The bits of a BIT STRING's contents: the octets after the unused-bits octet, which must
/// be there, at most 7, and 0 when no bits follow (X.690 8.6.2). The unused bits themselves
/// are not checked (BER).
pub(crate) fn bit_string(content: &[u8]) -> Option<&[u8]> {
    let (&unused, bits) = content.split_first()?;
    (unused <= 7 && (unused == 0 || !bits.is_empty())).then_some(bits)
}
