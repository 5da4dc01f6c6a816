//! Colour themes. Drawing uses one palette of roles (added green, modified yellow, removed
//! red, waste magenta, accent cyan, secret light red, dim dark grey, key text black); a theme
//! says which colour each role gets, and is applied to the drawn frame in one pass, so no
//! drawing code needs to know the theme. `dark` (the default) keeps the palette as it is;
//! `light` picks colours that read on a light background (no yellow text on white).

use ratatui::buffer::Buffer;
use ratatui::style::Color;

/// The roles a theme colours, by config name and by the colour drawing uses for them.
pub(crate) const ROLES: &[(&str, Color)] = &[
    ("added", Color::Green),
    ("modified", Color::Yellow),
    ("removed", Color::Red),
    ("waste", Color::Magenta),
    ("accent", Color::Cyan),
    ("secret", Color::LightRed),
    ("dim", Color::DarkGray),
    ("key-text", Color::Black),
];

/// A colour per role (in the order of `ROLES`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Theme {
    pub name: String,
    colors: Vec<Color>,
}

impl Default for Theme {
    fn default() -> Theme {
        Theme::dark()
    }
}

impl Theme {
    /// The drawing palette unchanged: for dark terminals.
    pub fn dark() -> Theme {
        Theme {
            name: "dark".to_string(),
            colors: ROLES.iter().map(|&(_, c)| c).collect(),
        }
    }

    /// For light terminals: darker greens and ambers, blue accents, grey borders.
    pub fn light() -> Theme {
        Theme {
            name: "light".to_string(),
            colors: vec![
                Color::Rgb(0x1a, 0x7f, 0x37),
                Color::Rgb(0x9a, 0x67, 0x00),
                Color::Rgb(0xcf, 0x22, 0x2e),
                Color::Rgb(0x82, 0x50, 0xdf),
                Color::Rgb(0x09, 0x69, 0xda),
                Color::Rgb(0xa4, 0x0e, 0x26),
                Color::Rgb(0x8c, 0x95, 0x9f),
                Color::White,
            ],
        }
    }

    /// A theme by name: `dark` or `light`.
    pub fn named(name: &str) -> Option<Theme> {
        match name {
            "dark" => Some(Theme::dark()),
            "light" => Some(Theme::light()),
            _ => None,
        }
    }

    /// Sets one role's colour: a name ratatui knows (`green`, `lightblue`), `#rrggbb`, or
    /// an index 0-255.
    pub fn set(&mut self, role: &str, color: &str) -> Result<(), String> {
        let i = ROLES
            .iter()
            .position(|&(r, _)| r == role)
            .ok_or_else(|| format!("unknown colour role `{role}`"))?;
        let c: Color = color
            .trim()
            .parse()
            .map_err(|_| format!("unknown colour `{color}` (a name, #rrggbb or 0-255)"))?;
        self.colors[i] = c;
        self.name = format!(
            "{} (customised)",
            self.name.trim_end_matches(" (customised)")
        );
        Ok(())
    }

    /// The colour of a role.
    pub fn color(&self, role: &str) -> Option<Color> {
        ROLES
            .iter()
            .position(|&(r, _)| r == role)
            .map(|i| self.colors[i])
    }

    /// Recolours a drawn frame: every cell whose colour is a role's palette colour gets the
    /// theme's colour for that role.
    pub(crate) fn apply(&self, buf: &mut Buffer) {
        if *self == Theme::dark() {
            return;
        }
        let map = |c: Color| {
            ROLES
                .iter()
                .position(|&(_, p)| p == c)
                .map_or(c, |i| self.colors[i])
        };
        for cell in &mut buf.content {
            let (fg, bg) = (map(cell.fg), map(cell.bg));
            cell.set_fg(fg);
            cell.set_bg(bg);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn light_theme_recolours_roles_and_leaves_the_rest() {
        let mut buf = Buffer::empty(ratatui::layout::Rect::new(0, 0, 3, 1));
        buf.content[0].set_fg(Color::Yellow);
        buf.content[1].set_bg(Color::Cyan);
        buf.content[2].set_fg(Color::Blue);
        Theme::light().apply(&mut buf);
        assert_eq!(buf.content[0].fg, Color::Rgb(0x9a, 0x67, 0x00));
        assert_eq!(buf.content[1].bg, Color::Rgb(0x09, 0x69, 0xda));
        assert_eq!(buf.content[2].fg, Color::Blue);
    }

    #[test]
    fn roles_take_names_hex_and_indexes() {
        let mut t = Theme::dark();
        t.set("added", "#00aa00").unwrap();
        t.set("accent", "lightblue").unwrap();
        t.set("dim", "245").unwrap();
        assert_eq!(t.color("added"), Some(Color::Rgb(0, 0xaa, 0)));
        assert_eq!(t.color("accent"), Some(Color::LightBlue));
        assert_eq!(t.color("dim"), Some(Color::Indexed(245)));
        assert!(t.set("added", "chartreuse-ish").is_err());
        assert!(t.set("bogus", "red").is_err());
    }
}
