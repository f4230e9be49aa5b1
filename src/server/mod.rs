//! Module `server`: see DESIGN.md.
