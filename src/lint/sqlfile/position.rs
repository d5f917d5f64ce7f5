//! Byte offsets to 1-based line and column numbers (columns count characters).

/// The line starts of one file.
#[derive(Debug)]
pub(crate) struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i + 1),
        );
        LineIndex { text, starts }
    }

    /// The line and column of `offset` (clamped to the text, moved back to a character start).
    pub(crate) fn position(&self, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.starts.partition_point(|&s| s <= offset);
        let start = self.starts[line - 1];
        let mut column = self.text[start..offset].chars().count() + 1;
        // a BOM at the start of the file is not a column
        if line == 1 && self.text.starts_with('\u{feff}') && offset > 0 {
            column -= 1;
        }
        (line, column)
    }
}

#[cfg(test)]
mod tests {
    use super::LineIndex;

    #[test]
    fn lines_and_character_columns() {
        let text = "ab\nцвет x\r\n\nz";
        let index = LineIndex::new(text);
        assert_eq!(index.position(0), (1, 1));
        assert_eq!(index.position(2), (1, 3));
        assert_eq!(index.position(3), (2, 1));
        // "цвет " is 9 bytes, 5 characters
        assert_eq!(index.position(3 + 9), (2, 6));
        assert_eq!(index.position(4), (2, 1)); // inside a character
        assert_eq!(index.position(text.len()), (4, 2));
        assert_eq!(index.position(usize::MAX), (4, 2));
        assert_eq!(LineIndex::new("\u{feff}ab").position(4), (1, 2));
    }
}
