//! Module `reactive`: see DESIGN.md.
