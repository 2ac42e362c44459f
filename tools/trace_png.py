"""The timeline picture of a parsed trace (matplotlib): a lane per task, polls as bars, wakes
and steals as ticks, deadline misses as red crosses; the whole trace and a zoom."""

from trace_export import MISSES, K, polls, tasks_of


class Lanes:
    """The picture's lanes: one per (section, task), with its polls and its events."""

    def __init__(self, sections):
        many = len(sections) > 1
        self.keys = []
        self.names = {}
        self.spans = {}
        self.events = []  # (t, kind, lane key)
        for i, sec in enumerate(sections):
            for task in tasks_of(sec):
                key = (i, task)
                self.keys.append(key)
                self.names[key] = ("%s: " % sec.process_name if many else "") + sec.name(task)
            for task, ps in polls(sec).items():
                self.spans[(i, task)] = ps
            self.events += [(r[0], r[1], (i, r[2])) for r in sec.records]
        self.events.sort(key=lambda e: e[0])


def timeline_png(sections, path, width=1600, height=900, zoom_ms=30.0):
    """A timeline picture: one lane per task (polls as bars, wakes as ticks, deadline misses
    as red crosses; with several schedulers or cores, a lane per task of each), the whole
    trace above and a ``zoom_ms`` window below (around the first deadline miss, else the
    busiest stretch)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lanes = Lanes(sections)
    end_ms = max((e[0] for e in lanes.events), default=0) / 1000 or 1.0
    misses = [e for e in lanes.events if e[1] in MISSES]
    centre = misses[0][0] / 1000 if misses else _busiest(lanes, zoom_ms)
    lo = max(0.0, min(centre - zoom_ms / 2, end_ms - zoom_ms))
    fig, axes = plt.subplots(2, 1, figsize=(width / 100, height / 100), dpi=100)
    for ax, (x0, x1), title in (
            (axes[0], (0, end_ms), "the whole trace (%.0f ms)" % end_ms),
            (axes[1], (lo, lo + zoom_ms), "zoom: %.0f ms from %.1f ms%s" % (
                zoom_ms, lo, " (around the first deadline miss)" if misses else ""))):
        _lanes(ax, lanes, x0, x1)
        ax.set_title(title, fontsize=11, loc="left")
    axes[1].set_xlabel("ms since the first record")
    axes[0].legend(handles=_legend(), loc="upper right", fontsize=9, ncol=5)
    fig.suptitle("shimeji trace: %d records of %s, %d dropped" % (
        len(lanes.events), ", ".join(sec.process_name for sec in sections),
        sum(sec.header.get("dropped", 0) for sec in sections)), fontsize=13)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


COLORS = {"poll": "#4477aa", K.WAKE_TASK: "#228833", K.WAKE_EXTERNAL: "#ee7733",
          K.WAKE_TIMER: "#aa3377", K.CROSS_CORE_WAKE: "#009988", K.STEAL: "#222222",
          "miss": "#cc0000"}


def _lanes(ax, lanes, x0, x1):
    ys = {key: i for i, key in enumerate(lanes.keys)}
    for key in lanes.keys:
        bars = [(b / 1000, max(e - b, 1) / 1000) for b, e, _ in lanes.spans.get(key, ())
                if e / 1000 >= x0 and b / 1000 <= x1]
        ax.broken_barh(bars, (ys[key] - 0.3, 0.6), facecolors=COLORS["poll"],
                       edgecolors=COLORS["poll"], linewidth=0.6)
    for t, kind, key in lanes.events:
        ms = t / 1000
        if key not in ys or not x0 <= ms <= x1:
            continue
        if kind in COLORS:
            ax.plot([ms], [ys[key] + 0.42], marker="|", markersize=9, color=COLORS[kind],
                    linestyle="none")
        elif kind in MISSES:
            ax.plot([ms], [ys[key]], marker="x", markersize=11, mew=2.2, color=COLORS["miss"],
                    linestyle="none")
    ax.set_yticks(range(len(lanes.keys)))
    ax.set_yticklabels([lanes.names[k] for k in lanes.keys])
    ax.set_ylim(len(lanes.keys) - 0.4, -0.6)
    ax.set_xlim(x0, x1)
    ax.grid(axis="x", alpha=0.3)


def _legend():
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    return [Patch(color=COLORS["poll"], label="poll"),
            Line2D([], [], marker="|", color=COLORS[K.WAKE_TASK], ls="none", ms=9,
                   label="woken by a task"),
            Line2D([], [], marker="|", color=COLORS[K.WAKE_EXTERNAL], ls="none", ms=9,
                   label="woken by an interrupt/thread"),
            Line2D([], [], marker="|", color=COLORS[K.WAKE_TIMER], ls="none", ms=9,
                   label="woken by the timer"),
            Line2D([], [], marker="|", color=COLORS[K.CROSS_CORE_WAKE], ls="none", ms=9,
                   label="woken from another core"),
            Line2D([], [], marker="|", color=COLORS[K.STEAL], ls="none", ms=9,
                   label="stolen"),
            Line2D([], [], marker="x", color=COLORS["miss"], ls="none", ms=9, mew=2,
                   label="deadline miss")]


def _busiest(lanes, window_ms):
    times = sorted(e[0] / 1000 for e in lanes.events if e[1] == K.POLL_BEGIN)
    best, best_at, j = 0, window_ms / 2, 0
    for i, t in enumerate(times):
        while times[j] < t - window_ms:
            j += 1
        if i - j > best:
            best, best_at = i - j, t - window_ms / 2
    return best_at
