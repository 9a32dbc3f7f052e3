//! A plain printable PDF: lines of text on A4 pages, in DejaVu Sans, which
//! is embedded whole so that a name in Cyrillic, Greek or Latin prints as
//! written. (Arabic and Hebrew letters print unshaped, in logical order: the
//! JSON beside the PDF is the record of the text; the PDF is for reading.)
//!
//! Glyphs are addressed by glyph id (Identity-H) with a ToUnicode map, so
//! the text can also be searched and copied.

use std::collections::BTreeMap;
use std::fmt::Write as _;

static FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

const PAGE_WIDTH: f32 = 595.0;
const PAGE_HEIGHT: f32 = 842.0;
const MARGIN: f32 = 56.0;
const SIZE: f32 = 11.0;
const LEADING: f32 = 15.0;
/// Characters a line holds before it wraps: 483 pt of line over DejaVu Sans
/// at 11 pt is about 74 characters of average width; 70 leaves room for wide ones.
const WRAP: usize = 70;

fn wrap(line: &str) -> Vec<String> {
    let mut out = vec![];
    let mut current = String::new();
    for word in line.split(' ') {
        let len = current.chars().count() + word.chars().count() + 1;
        if !current.is_empty() && len > WRAP {
            out.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(' ');
        }
        // A single word longer than a line is cut.
        let mut word: Vec<char> = word.chars().collect();
        while word.len() > WRAP {
            let rest = word.split_off(WRAP);
            out.push(word.into_iter().collect());
            word = rest;
        }
        current.extend(word);
    }
    out.push(current);
    out
}

/// A PDF of `lines`, wrapped, as many A4 pages as they need.
pub fn document(lines: &[String]) -> Vec<u8> {
    let face = ttf_parser::Face::parse(FONT, 0).expect("the embedded font parses");
    let scale = 1000.0 / f32::from(face.units_per_em());
    let mut used: BTreeMap<u16, char> = BTreeMap::new();
    let wrapped: Vec<String> = lines.iter().flat_map(|l| wrap(l)).collect();
    let per_page = ((PAGE_HEIGHT - 2.0 * MARGIN) / LEADING) as usize;
    let pages: Vec<&[String]> = if wrapped.is_empty() {
        vec![&[]]
    } else {
        wrapped.chunks(per_page).collect()
    };
    let mut contents = vec![];
    for page in &pages {
        let mut c = format!(
            "BT /F1 {SIZE} Tf {LEADING} TL {MARGIN} {} Td\n",
            PAGE_HEIGHT - MARGIN
        );
        for line in *page {
            c.push('<');
            for ch in line.chars() {
                let gid = face.glyph_index(ch).map_or(0, |g| g.0);
                used.entry(gid).or_insert(ch);
                let _ = write!(c, "{gid:04X}");
            }
            c.push_str("> Tj T*\n");
        }
        c.push_str("ET\n");
        contents.push(c);
    }

    // Objects: 1 catalog, 2 pages, 3 font, 4 CID font, 5 descriptor,
    // 6 font file, 7 ToUnicode, then a page and its contents per page.
    let mut objects: Vec<Vec<u8>> = vec![];
    let page_ids: Vec<usize> = (0..pages.len()).map(|i| 8 + 2 * i).collect();
    objects.push(b"<< /Type /Catalog /Pages 2 0 R >>".to_vec());
    let kids: Vec<String> = page_ids.iter().map(|id| format!("{id} 0 R")).collect();
    objects.push(
        format!(
            "<< /Type /Pages /Kids [{}] /Count {} >>",
            kids.join(" "),
            pages.len()
        )
        .into_bytes(),
    );
    objects.push(
        b"<< /Type /Font /Subtype /Type0 /BaseFont /DejaVuSans /Encoding /Identity-H \
          /DescendantFonts [4 0 R] /ToUnicode 7 0 R >>"
            .to_vec(),
    );
    let mut widths = String::new();
    for gid in used.keys() {
        let advance = face
            .glyph_hor_advance(ttf_parser::GlyphId(*gid))
            .unwrap_or(0);
        let _ = write!(widths, "{gid} [{}] ", (f32::from(advance) * scale).round());
    }
    objects.push(
        format!(
            "<< /Type /Font /Subtype /CIDFontType2 /BaseFont /DejaVuSans \
             /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> \
             /FontDescriptor 5 0 R /CIDToGIDMap /Identity /DW 600 /W [{widths}] >>"
        )
        .into_bytes(),
    );
    let bbox = face.global_bounding_box();
    let s = |v: i16| (f32::from(v) * scale).round();
    objects.push(
        format!(
            "<< /Type /FontDescriptor /FontName /DejaVuSans /Flags 32 \
             /FontBBox [{} {} {} {}] /ItalicAngle 0 /Ascent {} /Descent {} \
             /CapHeight {} /StemV 80 /FontFile2 6 0 R >>",
            s(bbox.x_min),
            s(bbox.y_min),
            s(bbox.x_max),
            s(bbox.y_max),
            s(face.ascender()),
            s(face.descender()),
            s(face.capital_height().unwrap_or(face.ascender())),
        )
        .into_bytes(),
    );
    objects.push(stream(&format!("/Length1 {}", FONT.len()), FONT));
    let mut cmap = String::from(
        "/CIDInit /ProcSet findresource begin 12 dict begin begincmap \
         /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def \
         /CMapName /Adobe-Identity-UCS def /CMapType 2 def \
         1 begincodespacerange <0000> <FFFF> endcodespacerange\n",
    );
    let pairs: Vec<(&u16, &char)> = used.iter().collect();
    for chunk in pairs.chunks(100) {
        let _ = writeln!(cmap, "{} beginbfchar", chunk.len());
        for (gid, ch) in chunk {
            let mut utf16 = [0u16; 2];
            let hex: String = ch
                .encode_utf16(&mut utf16)
                .iter()
                .map(|u| format!("{u:04X}"))
                .collect();
            let _ = writeln!(cmap, "<{gid:04X}> <{hex}>");
        }
        cmap.push_str("endbfchar\n");
    }
    cmap.push_str("endcmap CMapName currentdict /CMap defineresource pop end end\n");
    objects.push(stream("", cmap.as_bytes()));
    for (i, content) in contents.iter().enumerate() {
        objects.push(
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_WIDTH} {PAGE_HEIGHT}] \
                 /Resources << /Font << /F1 3 0 R >> >> /Contents {} 0 R >>",
                page_ids[i] + 1
            )
            .into_bytes(),
        );
        objects.push(stream("", content.as_bytes()));
    }

    let mut out = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = vec![];
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    let mut table = format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1);
    for offset in offsets {
        let _ = writeln!(table, "{offset:010} 00000 n ");
    }
    let _ = write!(
        table,
        "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        objects.len() + 1
    );
    out.extend_from_slice(table.as_bytes());
    out
}

fn stream(extra: &str, data: &[u8]) -> Vec<u8> {
    let mut out = format!("<< /Length {} {extra} >>\nstream\n", data.len()).into_bytes();
    out.extend_from_slice(data);
    out.extend_from_slice(b"\nendstream");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_is_a_well_formed_pdf_with_every_character_mapped() {
        let lines = vec![
            "Referral package".to_owned(),
            "identity.legal_name: Ахмед Иванов".to_owned(),
            "x".repeat(200),
        ];
        let pdf = document(&lines);
        assert!(pdf.starts_with(b"%PDF-1.7"));
        assert!(pdf.ends_with(b"%%EOF\n"));
        // Offsets are in bytes, and the embedded font is not text: search bytes.
        let find = |needle: &[u8], from: usize| {
            pdf[from..]
                .windows(needle.len())
                .position(|w| w == needle)
                .map(|p| p + from)
        };
        let starts = |at: usize, what: &str| pdf[at..].starts_with(what.as_bytes());
        // The cross-reference table points at each object exactly.
        let tail = find(b"startxref\n", pdf.len() - 64).unwrap() + "startxref\n".len();
        let xref_at: usize = String::from_utf8_lossy(&pdf[tail..])
            .lines()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(starts(xref_at, "xref"));
        let table = String::from_utf8_lossy(&pdf[xref_at..]).into_owned();
        let entries: Vec<usize> = table
            .lines()
            .skip(3)
            .take_while(|l| l.ends_with(" n "))
            .map(|l| l[..10].parse().unwrap())
            .collect();
        assert!(entries.len() >= 9);
        for (i, offset) in entries.iter().enumerate() {
            assert!(
                starts(*offset, &format!("{} 0 obj", i + 1)),
                "object {}",
                i + 1
            );
        }
        let text = String::from_utf8_lossy(&pdf);
        // Cyrillic has real glyphs, and maps back to its letters.
        assert!(
            text.contains("<0410>") || text.contains("0410>"),
            "А in ToUnicode"
        );
        let missing: Vec<&str> = text.lines().filter(|l| l.starts_with("<0000> <")).collect();
        assert!(missing.is_empty(), "no missing glyph: {missing:?}");
        // The long line wrapped onto more than one line.
        assert!(text.matches("> Tj T*").count() >= 4);
    }

    #[test]
    fn lines_wrap_at_words_and_cut_words_too_long() {
        assert_eq!(wrap("short"), vec!["short"]);
        let long = format!("{} {}", "a".repeat(50), "b".repeat(50));
        assert_eq!(wrap(&long), vec!["a".repeat(50), "b".repeat(50)]);
        assert_eq!(wrap(&"c".repeat(100)).len(), 2);
        assert!(
            wrap(&"d ".repeat(200))
                .iter()
                .all(|l| l.chars().count() <= WRAP)
        );
    }
}
