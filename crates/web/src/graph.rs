//! The pipeline graph's layout: one column per stage, one box per job, and the `needs` lines
//! between boxes as SVG paths. Computed here, so the page draws it without script.

/// Box and spacing sizes, in CSS pixels.
pub const BOX_W: u32 = 190;
/// Height of a job box.
pub const BOX_H: u32 = 38;
/// Horizontal distance between columns' left edges.
pub const COL_W: u32 = 250;
/// Vertical distance between boxes' top edges.
pub const ROW_H: u32 = 50;
/// Room above the first box for the stage's name.
pub const TOP: u32 = 34;

/// A job as the layout needs it.
#[derive(Clone, Debug)]
pub struct Node {
    /// Its name (unique in the pipeline).
    pub name: String,
    /// Its stage's index among the stages shown.
    pub column: usize,
    /// The names of the jobs it needs.
    pub needs: Vec<String>,
}

/// Where a job's box goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Place {
    /// Left edge.
    pub x: u32,
    /// Top edge.
    pub y: u32,
}

/// The laid-out graph.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    /// A place per node, in the order given.
    pub places: Vec<Place>,
    /// One SVG path (`d` attribute) per need, from the needed job to the one needing it,
    /// with the two node indices.
    pub edges: Vec<(usize, usize, String)>,
    /// The drawing's width.
    pub width: u32,
    /// The drawing's height.
    pub height: u32,
}

/// Lays out `nodes` in `columns` columns, each column's nodes top to bottom in the order given.
pub fn layout(nodes: &[Node], columns: usize) -> Layout {
    let mut rows = vec![0u32; columns.max(1)];
    let places: Vec<Place> = nodes
        .iter()
        .map(|n| {
            let col = n.column.min(rows.len() - 1);
            let place = Place {
                x: col as u32 * COL_W,
                y: TOP + rows[col] * ROW_H,
            };
            rows[col] += 1;
            place
        })
        .collect();
    let mut edges = Vec::new();
    for (to, node) in nodes.iter().enumerate() {
        for need in &node.needs {
            let Some(from) = nodes.iter().position(|n| &n.name == need) else {
                continue;
            };
            let (a, b) = (places[from], places[to]);
            let (x1, y1) = (a.x + BOX_W, a.y + BOX_H / 2);
            let (x2, y2) = (b.x, b.y + BOX_H / 2);
            let d = if x2 > x1 {
                let mid = (x1 + x2) / 2;
                format!("M{x1} {y1} C{mid} {y1} {mid} {y2} {x2} {y2}")
            } else {
                // A need in the same column (or an earlier one): around the right side.
                let out = a.x.max(b.x) + BOX_W + 20;
                format!("M{x1} {y1} C{out} {y1} {out} {y2} {} {y2}", b.x + BOX_W)
            };
            edges.push((from, to, d));
        }
    }
    let tallest = rows.iter().copied().max().unwrap_or(0);
    Layout {
        places,
        edges,
        width: (rows.len() as u32 - 1) * COL_W + BOX_W + 30,
        height: TOP + tallest * ROW_H,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str, column: usize, needs: &[&str]) -> Node {
        Node {
            name: name.into(),
            column,
            needs: needs.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    #[test]
    fn jobs_stack_in_their_stage_column_and_needs_become_curves() {
        let nodes = [
            node("build", 0, &[]),
            node("lint", 0, &[]),
            node("test", 1, &["build"]),
            node("deploy", 2, &["test", "missing"]),
        ];
        let l = layout(&nodes, 3);
        assert_eq!(l.places[0], Place { x: 0, y: TOP });
        assert_eq!(l.places[1], Place { x: 0, y: TOP + ROW_H });
        assert_eq!(l.places[2], Place { x: COL_W, y: TOP });
        assert_eq!(l.edges.len(), 2, "an unknown need draws nothing");
        assert_eq!((l.edges[0].0, l.edges[0].1), (0, 2));
        let (x1, y) = (BOX_W, TOP + BOX_H / 2);
        assert!(
            l.edges[0].2.starts_with(&format!("M{x1} {y} C")),
            "{}",
            l.edges[0].2
        );
        assert!(l.edges[0].2.ends_with(&format!("{COL_W} {y}")));
        assert_eq!(l.height, TOP + 2 * ROW_H);
        assert_eq!(l.width, 2 * COL_W + BOX_W + 30);
    }

    #[test]
    fn a_need_in_the_same_stage_goes_around_the_right() {
        let l = layout(&[node("a", 0, &[]), node("b", 0, &["a"])], 1);
        assert!(
            l.edges[0]
                .2
                .ends_with(&format!("{} {}", BOX_W, TOP + ROW_H + BOX_H / 2))
        );
    }
}
