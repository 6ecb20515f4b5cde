package dev.tcpscope.bench.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A horizontal bar chart of ratios on a log2 axis, written as plain SVG: each bar is "how many
 * times better than the JDK virtual-thread baseline", 1× is the baseline, right of it is better.
 */
final class SvgChart {

    /** One bar; {@code error} may be NaN. */
    record Bar(String group, String label, double value, double error, String colour) {}

    private static final int WIDTH = 960, LABEL = 360, RIGHT = 60, BAR = 16, GAP = 6, GROUP_GAP = 26, TOP = 64;

    private final String title;
    private final String subtitle;
    private final List<Bar> bars = new ArrayList<>();

    SvgChart(String title, String subtitle) {
        this.title = title;
        this.subtitle = subtitle;
    }

    void add(Bar bar) {
        if (Double.isFinite(bar.value()) && bar.value() > 0) {
            bars.add(bar);
        }
    }

    String render() {
        double lo = 0.25, hi = 2;
        for (Bar b : bars) {
            lo = Math.min(lo, b.value() / 1.25);
            hi = Math.max(hi, b.value() * 1.25);
        }
        double minExp = Math.floor(log2(lo)), maxExp = Math.ceil(log2(hi));
        int plot = WIDTH - LABEL - RIGHT;
        int groups = (int) bars.stream().map(Bar::group).distinct().count();
        int height = TOP + bars.size() * (BAR + GAP) + groups * GROUP_GAP + 40;
        StringBuilder s = new StringBuilder();
        s.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                + "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">%n", WIDTH, height, WIDTH, height));
        s.append(String.format("<rect width=\"%d\" height=\"%d\" fill=\"white\"/>%n", WIDTH, height));
        s.append(String.format("<text x=\"10\" y=\"22\" font-size=\"16\" font-weight=\"bold\">%s</text>%n", escape(title)));
        s.append(String.format("<text x=\"10\" y=\"42\" fill=\"#555\">%s</text>%n", escape(subtitle)));
        int axisBottom = height - 30;
        for (double e = minExp; e <= maxExp; e++) {
            double x = LABEL + plot * (e - minExp) / (maxExp - minExp);
            boolean one = e == 0;
            s.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"%s\" stroke-width=\"%s\"/>%n",
                    x, TOP - 8, x, axisBottom, one ? "#000" : "#ddd", one ? "1.5" : "1"));
            s.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" fill=\"#333\">%s×</text>%n",
                    x, axisBottom + 16, formatTick(Math.pow(2, e))));
        }
        int y = TOP;
        String group = null;
        for (Bar b : bars) {
            if (!b.group().equals(group)) {
                group = b.group();
                y += GROUP_GAP;
                s.append(String.format("<text x=\"10\" y=\"%d\" font-weight=\"bold\">%s</text>%n", y - 8, escape(group)));
            }
            double x0 = LABEL + plot * (0 - minExp) / (maxExp - minExp);
            double x1 = LABEL + plot * (log2(b.value()) - minExp) / (maxExp - minExp);
            s.append(String.format("<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>%n", LABEL - 8, y + BAR - 4, escape(b.label())));
            s.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"/>%n",
                    Math.min(x0, x1), y, Math.abs(x1 - x0), BAR, b.colour()));
            if (Double.isFinite(b.error()) && b.error() > 0) {
                double lowX = LABEL + plot * (log2(Math.max(b.value() - b.error(), Math.pow(2, minExp))) - minExp) / (maxExp - minExp);
                double highX = Math.min(LABEL + plot,
                        LABEL + plot * (log2(b.value() + b.error()) - minExp) / (maxExp - minExp));
                s.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#000\"/>%n",
                        lowX, y + BAR / 2, highX, y + BAR / 2));
            }
            s.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" fill=\"#000\">%.2f×</text>%n",
                    Math.max(x0, x1) + 4, y + BAR - 4, b.value()));
            y += BAR + GAP;
        }
        s.append("</svg>\n");
        return s.toString();
    }

    private static String formatTick(double v) {
        return v >= 1 ? String.format(Locale.ROOT, "%.0f", v) : String.format(Locale.ROOT, "%s", v);
    }

    private static double log2(double v) {
        return Math.log(v) / Math.log(2);
    }

    private static String escape(String text) {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
