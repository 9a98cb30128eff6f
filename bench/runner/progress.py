"""A progress bar on a terminal (one line, redrawn), or one line per step into a log."""
import sys
import time


class Progress:
    def __init__(self, weights, out=sys.stderr):
        self.total = float(sum(weights)) or 1.0
        self.done = 0.0
        self.steps, self.step = len(weights), 0
        self.out = out
        self.tty = out.isatty()
        self.start = time.monotonic()

    def begin(self, label):
        self.step += 1
        elapsed = time.monotonic() - self.start
        if not self.tty:
            self.out.write("bench: [%d/%d] %s\n" % (self.step, self.steps, label))
            self.out.flush()
            return
        width = 30
        filled = int(width * self.done / self.total)
        bar = "#" * filled + "." * (width - filled)
        line = "[%s] %3d%% %d/%d %2d:%02d %s" % (bar, 100 * self.done / self.total, self.step,
                                                 self.steps, elapsed // 60, elapsed % 60, label)
        self.out.write("\r\033[K" + line[:120])
        self.out.flush()

    def end(self, weight):
        self.done += weight

    def close(self):
        if self.tty:
            self.out.write("\r\033[K")
            self.out.flush()
