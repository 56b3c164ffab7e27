//! A certificate as a tree of TLVs, written by hand for the x509-cert oracle
//! (tests/x509_cert_oracle.rs, fuzz/fuzz_targets/x509_cert_agreement.rs): read a DER
//! certificate, know where each element is in RFC 5280's module as far as x509-cert's
//! types go, change elements, and write it back with each element's length in the form
//! chosen for it (DER, long form, indefinite).
//!
//! What it knows of the module is what separates the elements x509-cert decodes to a type
//! (whose DER-ness it judges) from the contents of an `ANY` (`x509_cert`'s `Any`: an
//! attribute value in a Name, AlgorithmIdentifier parameters, an otherName's value, a
//! policy qualifier), of which x509-cert reads only the TLV header and keeps the contents
//! as bytes: such a node is [`Node::any`], and its contents are not descended into.
#![allow(dead_code)]

/// How a node's length is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Len {
    /// The DER form.
    Der,
    /// The long form with `zeros` redundant leading 0x00 octets (with zero extra octets,
    /// a length below 128 in the long form).
    Long { zeros: usize },
    /// Indefinite (constructed only), closed by end-of-contents octets.
    Indefinite,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ctx {
    Cert,
    Tbs,
    Name,
    Rdn,
    Atv,
    AlgId,
    Spki,
    ExtsWrap,
    Exts,
    Ext,
    /// The top value inside a known extension's extnValue.
    BasicConstraints,
    KeyUsage,
    GeneralNames,
    GeneralName,
    OtherNameWrap,
    Aki,
    CrlDps,
    Dp,
    DpName,
    Aia,
    AccessDesc,
    Policies,
    PolicyInfo,
    Qualifiers,
    Qualifier,
    /// An `ANY`: the header is x509-cert's, the contents opaque.
    Any,
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// Primitive contents (or the opaque contents of an `ANY`).
    Prim(Vec<u8>),
    /// A constructed element's children.
    Cons(Vec<Node>),
    /// An OCTET STRING whose contents are the DER of one value (a known extension's
    /// extnValue).
    Encap(Vec<Node>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub tag: u8,
    pub len: Len,
    pub ctx: Ctx,
    pub body: Body,
    /// Absolute offset of the contents in the input it was read from.
    pub content_at: usize,
    pub content_len: usize,
}

impl Node {
    pub fn any(&self) -> bool {
        self.ctx == Ctx::Any
    }
    pub fn children(&self) -> &[Node] {
        match &self.body {
            Body::Cons(c) | Body::Encap(c) => c,
            Body::Prim(_) => &[],
        }
    }
    pub fn children_mut(&mut self) -> Option<&mut Vec<Node>> {
        match &mut self.body {
            Body::Cons(c) | Body::Encap(c) => Some(c),
            Body::Prim(_) => None,
        }
    }
    pub fn prim(&self) -> Option<&[u8]> {
        match &self.body {
            Body::Prim(p) => Some(p),
            _ => None,
        }
    }
    /// A primitive node in the DER form.
    pub fn leaf(tag: u8, content: &[u8]) -> Node {
        Node {
            tag,
            len: Len::Der,
            ctx: Ctx::Other,
            body: Body::Prim(content.to_vec()),
            content_at: 0,
            content_len: content.len(),
        }
    }
}

/// The extension OIDs whose extnValue both smki (`smki_x509::KnownExtension`) and this
/// oracle (x509-cert's `ext::pkix` types) decode.
pub const KNOWN: [(&[u8], Ctx); 10] = [
    (&[0x55, 0x1d, 0x0e], Ctx::Other),        // subjectKeyIdentifier
    (&[0x55, 0x1d, 0x0f], Ctx::KeyUsage),     // keyUsage
    (&[0x55, 0x1d, 0x11], Ctx::GeneralNames), // subjectAltName
    (&[0x55, 0x1d, 0x12], Ctx::GeneralNames), // issuerAltName
    (&[0x55, 0x1d, 0x13], Ctx::BasicConstraints), // basicConstraints
    (&[0x55, 0x1d, 0x20], Ctx::Policies),     // certificatePolicies
    (&[0x55, 0x1d, 0x23], Ctx::Aki),          // authorityKeyIdentifier
    (&[0x55, 0x1d, 0x25], Ctx::Other),        // extKeyUsage
    (&[0x55, 0x1d, 0x1f], Ctx::CrlDps),       // cRLDistributionPoints
    (&[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x01], Ctx::Aia), // authorityInfoAccess
];

fn child_ctx(parent: Ctx, parent_tag: u8, tbs_version: bool, index: usize, tag: u8) -> Ctx {
    use Ctx::*;
    match parent {
        Cert => match index {
            0 => Tbs,
            1 => AlgId,
            _ => Other,
        },
        Tbs => match tag {
            0xa0 => Other,
            0xa3 => ExtsWrap,
            _ => match index.checked_sub(usize::from(tbs_version)) {
                Some(1) => AlgId,
                Some(2) | Some(4) => Name,
                Some(5) => Spki,
                _ => Other,
            },
        },
        Name => Rdn,
        Rdn => Atv,
        Atv if index == 1 => Any,
        AlgId if index == 1 => Any,
        Spki if index == 0 => AlgId,
        ExtsWrap => Exts,
        Exts => Ext,
        GeneralNames => GeneralName,
        GeneralName => match (parent_tag, index) {
            (0xa0, 1) => OtherNameWrap,
            (0xa4, 0) => Name,
            _ => Other,
        },
        OtherNameWrap => Any,
        Aki if tag == 0xa1 => GeneralNames,
        CrlDps => Dp,
        Dp => match tag {
            0xa0 => DpName,
            0xa2 => GeneralNames,
            _ => Other,
        },
        DpName => match tag {
            0xa0 => GeneralNames,
            0xa1 => Rdn,
            _ => Other,
        },
        Aia => AccessDesc,
        AccessDesc if index == 1 => GeneralName,
        Policies => PolicyInfo,
        PolicyInfo if index == 1 => Qualifiers,
        Qualifiers => Qualifier,
        Qualifier if index == 1 => Any,
        _ => Other,
    }
}

/// Reads a DER (definite lengths, any length form) tree; `None` when it does not read.
pub fn parse(input: &[u8]) -> Option<Node> {
    let (node, end) = parse_node(input, 0, Ctx::Cert)?;
    (end == input.len()).then_some(node)
}

/// Reads the element at `at` as `ctx`.
fn parse_node(input: &[u8], at: usize, ctx: Ctx) -> Option<(Node, usize)> {
    let tag = *input.get(at)?;
    if tag & 0x1f == 0x1f {
        return None;
    }
    let first = *input.get(at + 1)?;
    let (len, hl) = if first < 0x80 {
        (first as usize, 2)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 {
            return None;
        }
        let mut l = 0usize;
        for i in 0..n {
            l = (l << 8) | *input.get(at + 2 + i)? as usize;
        }
        (l, 2 + n)
    };
    let start = at + hl;
    let end = start.checked_add(len)?;
    if end > input.len() {
        return None;
    }
    let contents = &input[start..end];
    let body = if ctx == Ctx::Any || tag & 0x20 == 0 {
        // An extnValue of a known extension holds DER: decided by the Ext parent below.
        Body::Prim(contents.to_vec())
    } else {
        Body::Cons(parse_children(input, start, end, ctx, tag)?)
    };
    let mut node = Node {
        tag,
        len: Len::Der,
        ctx,
        body,
        content_at: start,
        content_len: len,
    };
    if ctx == Ctx::Ext {
        encapsulate_known(input, &mut node)?;
    }
    Some((node, end))
}

fn parse_children(input: &[u8], start: usize, end: usize, ctx: Ctx, tag: u8) -> Option<Vec<Node>> {
    let tbs_version = ctx == Ctx::Tbs && input.get(start) == Some(&0xa0);
    let mut out = Vec::new();
    let mut at = start;
    while at < end {
        let child_tag = *input.get(at)?;
        let child = child_ctx(ctx, tag, tbs_version, out.len(), child_tag);
        let (child, next) = parse_node(&input[..end], at, child)?;
        out.push(child);
        at = next;
    }
    Some(out)
}

/// An Extension's extnValue, when the extension is known, read as the DER it holds.
fn encapsulate_known(input: &[u8], ext: &mut Node) -> Option<()> {
    let Body::Cons(children) = &mut ext.body else {
        return Some(());
    };
    let oid = children
        .first()
        .filter(|c| c.tag == 0x06)
        .and_then(|c| c.prim().map(<[u8]>::to_vec));
    let Some(ctx) = oid.and_then(|o| KNOWN.iter().find(|k| k.0 == o).map(|k| k.1)) else {
        return Some(());
    };
    if let Some(value) = children.iter_mut().find(|c| c.tag == 0x04) {
        let (start, end) = (value.content_at, value.content_at + value.content_len);
        let (top, next) = parse_node(&input[..end], start, ctx)?;
        if next != end {
            return None;
        }
        value.body = Body::Encap(vec![top]);
    }
    Some(())
}

fn write_len(out: &mut Vec<u8>, len: usize, form: Len) {
    let be: Vec<u8> = {
        let b = (len as u64).to_be_bytes();
        let skip = b.iter().take_while(|&&x| x == 0).count().min(7);
        b[skip..].to_vec()
    };
    match form {
        Len::Der if len < 0x80 => out.push(len as u8),
        Len::Der => {
            out.push(0x80 | be.len() as u8);
            out.extend_from_slice(&be);
        }
        Len::Long { zeros } => {
            out.push(0x80 | (be.len() + zeros) as u8);
            out.extend(std::iter::repeat_n(0u8, zeros));
            out.extend_from_slice(&be);
        }
        Len::Indefinite => out.push(0x80),
    }
}

/// Writes the tree.
pub fn encode(node: &Node) -> Vec<u8> {
    let contents = match &node.body {
        Body::Prim(p) => p.clone(),
        Body::Cons(c) | Body::Encap(c) => c.iter().flat_map(encode).collect(),
    };
    let mut out = vec![node.tag];
    write_len(&mut out, contents.len(), node.len);
    out.extend_from_slice(&contents);
    if node.len == Len::Indefinite {
        out.extend_from_slice(&[0, 0]);
    }
    out
}

/// Every node's path (child indices from the root), in preorder.
pub fn paths(root: &Node) -> Vec<Vec<usize>> {
    fn go(n: &Node, path: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
        out.push(path.clone());
        for (i, c) in n.children().iter().enumerate() {
            path.push(i);
            go(c, path, out);
            path.pop();
        }
    }
    let mut out = Vec::new();
    go(root, &mut Vec::new(), &mut out);
    out
}

pub fn at<'a>(root: &'a Node, path: &[usize]) -> &'a Node {
    path.iter().fold(root, |n, &i| &n.children()[i])
}

pub fn at_mut<'a>(root: &'a mut Node, path: &[usize]) -> &'a mut Node {
    let mut n = root;
    for &i in path {
        n = &mut n.children_mut().expect("a constructed node")[i];
    }
    n
}

/// The byte ranges of every `ANY`'s contents (x509-cert keeps them as bytes).
pub fn any_contents(root: &Node) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    for p in paths(root) {
        let n = at(root, &p);
        if n.any() {
            out.push(n.content_at..n.content_at + n.content_len);
        }
    }
    out
}
