//! Inline SVG bar charts (no script, no external resources).

use std::fmt::Write;

/// Escape text for HTML/SVG.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

fn fmt_value(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        let s = format!("{}", v as i64);
        let mut out = String::new();
        for (k, c) in s.chars().enumerate() {
            if k > 0 && (s.len() - k) % 3 == 0 && c != '-' {
                out.push(',');
            }
            out.push(c);
        }
        out
    } else {
        format!("{v:.1}")
    }
}

/// A bar chart: horizontal bars with labels when `horizontal`, else vertical bars (histograms).
pub fn bar_chart(data: &[(String, f64)], title: &str, horizontal: bool) -> String {
    let max = data.iter().map(|d| d.1).fold(0.0f64, f64::max).max(1e-12);
    let mut s = String::new();
    if horizontal {
        let row = 22.0;
        let label_w = 230.0;
        let bar_w = 420.0;
        let h = 30.0 + row * data.len() as f64 + 10.0;
        let w = label_w + bar_w + 110.0;
        let _ = write!(
            s,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"img\" aria-label=\"{t}\"><title>{t}</title>\
<text x=\"0\" y=\"16\" font-size=\"13\" font-weight=\"600\">{t}</text>",
            t = escape(title)
        );
        for (i, (label, v)) in data.iter().enumerate() {
            let y = 30.0 + row * i as f64;
            let bw = (v / max * bar_w).max(if *v > 0.0 { 1.0 } else { 0.0 });
            let shown: String = label.chars().take(34).collect();
            let _ = write!(
                s,
                "<text x=\"{lx}\" y=\"{ty}\" font-size=\"11\" text-anchor=\"end\">{l}</text>\
<rect class=\"bar\" x=\"{label_w}\" y=\"{y}\" width=\"{bw:.1}\" height=\"{bh}\" fill=\"#4a7bb7\"><title>{l}: {vv}</title></rect>\
<text x=\"{vx:.1}\" y=\"{ty}\" font-size=\"11\">{vv}</text>",
                lx = label_w - 6.0,
                ty = y + 14.0,
                l = escape(&shown),
                bh = row - 6.0,
                vx = label_w + bw + 4.0,
                vv = fmt_value(*v)
            );
        }
        s.push_str("</svg>");
    } else {
        let n = data.len().max(1) as f64;
        let w = 340.0;
        let h = 230.0;
        let left = 46.0;
        let bottom = 60.0;
        let plot_w = w - left - 8.0;
        let plot_h = h - 30.0 - bottom;
        let bw = plot_w / n;
        let _ = write!(
            s,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"img\" aria-label=\"{t}\"><title>{t}</title>\
<text x=\"0\" y=\"14\" font-size=\"12\" font-weight=\"600\">{t}</text>\
<line x1=\"{left}\" y1=\"{y0}\" x2=\"{x1}\" y2=\"{y0}\" stroke=\"#889\"/>\
<text x=\"{lt}\" y=\"34\" font-size=\"10\" text-anchor=\"end\">{mx}</text><text x=\"{lt}\" y=\"{y0}\" font-size=\"10\" text-anchor=\"end\">0</text>",
            t = escape(title),
            y0 = 30.0 + plot_h,
            x1 = left + plot_w,
            lt = left - 4.0,
            mx = fmt_value(max)
        );
        for (i, (label, v)) in data.iter().enumerate() {
            let bh = v / max * plot_h;
            let x = left + bw * i as f64;
            let y = 30.0 + plot_h - bh;
            let lx = x + bw / 2.0;
            let ly = 30.0 + plot_h + 10.0;
            let _ = write!(
                s,
                "<rect class=\"bar\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{bww:.1}\" height=\"{bh:.1}\" fill=\"#4a7bb7\"><title>{l}: {vv}</title></rect>\
<text x=\"{lx:.1}\" y=\"{ly:.1}\" font-size=\"9\" text-anchor=\"end\" transform=\"rotate(-45 {lx:.1} {ly:.1})\">{l}</text>",
                bww = (bw - 2.0).max(1.0),
                l = escape(label),
                vv = fmt_value(*v)
            );
        }
        s.push_str("</svg>");
    }
    s
}
