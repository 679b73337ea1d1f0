/**
 * Steps shown live on a terminal with listr2: a spinner per step, its elapsed time and what it
 * reports (rows read, a phase), then a ✔ or ✖ with the step's own closing line. Only for a person
 * at a terminal: the caller decides (`io.interactive`, not `--json`) and prints plain notes
 * otherwise, so piped output never carries an escape code. Loaded only when used (start-up time).
 */
import { DefaultRenderer, Listr, ListrLogger, ProcessOutput } from 'listr2';

/** What a step reports while it runs: rows read so far, or a phase. */
export interface StepProgress {
  readonly rows?: number;
  readonly message?: string;
}

/** How a step ended: `ok` false shows it as failed (the run goes on); `line` follows its title. */
export interface StepEnd {
  readonly ok: boolean;
  readonly line: string;
}

export interface Step {
  readonly title: string;
  /** Runs the step; an exception (not a step that did not pass) stops the run and is rethrown. */
  run(report: (p: StepProgress) => void): Promise<StepEnd>;
}

/**
 * listr2's default renderer, drawn on stderr: stdout stays the command's result. Declared fit for
 * a stdout that is not a terminal (listr2 otherwise falls back to a renderer that writes stdout).
 */
class StderrRenderer extends DefaultRenderer {
  static override nonTTY = true;
}

/** A step that ran and did not pass: shown with ✖ and its line, and not an error of the run. */
class DidNotPass extends Error {}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

/**
 * Runs the steps one after another, drawn on `terminal` (stderr, a TTY). Resolves when all ran;
 * rejects with the first exception a step threw, after drawing it.
 */
export async function runLiveSteps(steps: readonly Step[], terminal: NodeJS.WriteStream): Promise<void> {
  // A pseudo-terminal given no size (`script` run without a terminal) says 0 columns and 0 rows:
  // listr2 would wrap every character onto its own line and log-update draw nothing. Draw 80 × 24.
  for (const stream of [terminal, process.stdout]) {
    if (!stream.isTTY) continue;
    if (!(stream.columns > 0)) stream.columns = 80;
    if (!(stream.rows > 0)) stream.rows = 24;
  }
  let thrown: { err: unknown } | undefined;
  const tasks = new Listr(
    steps.map((step) => ({
      title: step.title,
      // A step that did not pass is shown and the run goes on; an exception stops it.
      exitOnError: () => thrown !== undefined,
      task: async (_ctx: unknown, task: { title: string; output: string }) => {
        const started = performance.now();
        let rows: number | undefined;
        let message: string | undefined;
        const show = () => {
          const parts = [seconds(performance.now() - started)];
          if (rows !== undefined) parts.push(`${rows.toLocaleString('en-US')} rows read`);
          if (message !== undefined) parts.push(message);
          task.output = parts.join(' · ');
        };
        show();
        // The spinner redraws every 80 ms; the elapsed time is refreshed a little slower.
        const timer = setInterval(show, 100);
        let end: StepEnd;
        try {
          end = await step.run((p) => {
            if (p.rows !== undefined) rows = p.rows;
            if (p.message !== undefined) message = p.message;
            show();
          });
        } catch (err) {
          thrown = { err };
          throw err;
        } finally {
          clearInterval(timer);
        }
        task.title = `${step.title} ${end.line}`;
        if (!end.ok) throw new DidNotPass(task.title);
      },
    })),
    {
      concurrent: false,
      // Ctrl-C is the command's to handle (it stops the running validator); listr2 would exit at once.
      registerSignalListeners: false,
      renderer: StderrRenderer,
      rendererOptions: {
        // Both of listr2's streams are the terminal: what is written to it meanwhile is held and shown after.
        logger: new ListrLogger({ useIcons: true, processOutput: new ProcessOutput(terminal, terminal) }),
      },
    },
  );
  try {
    await tasks.run();
  } catch (err) {
    if (thrown) throw thrown.err;
    throw err;
  }
  if (thrown) throw thrown.err;
}
