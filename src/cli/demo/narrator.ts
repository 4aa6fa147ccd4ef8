/** A step saw something other than what it demonstrates; the message says what it saw. */
export class StepFailure extends Error {
  override name = 'StepFailure';
}

/** Throws `StepFailure` with `message` unless `condition` holds. */
export function expectThat(condition: boolean, message: string): asserts condition {
  if (!condition) throw new StepFailure(message);
}

const STYLES = {
  bold: [1, 22],
  dim: [2, 22],
  red: [31, 39],
  green: [32, 39],
  cyan: [36, 39],
} as const;

type Style = keyof typeof STYLES;

/** What the demo says: step headings, each request and its answer, checks. Colour on a TTY only. */
export class Narrator {
  private readonly colour: boolean;

  constructor(private readonly out: NodeJS.WriteStream = process.stdout) {
    this.colour = out.isTTY === true;
  }

  heading(text: string): void {
    this.write(`\n${this.style('bold', text)}`);
  }

  request(text: string): void {
    this.write(`  ${this.style('cyan', '→')} ${text}`);
  }

  answer(text: string): void {
    this.write(`  ${this.style('cyan', '←')} ${text}`);
  }

  ok(text: string): void {
    this.write(`  ${this.style('green', '✓')} ${text}`);
  }

  note(text: string): void {
    this.write(`    ${this.style('dim', text)}`);
  }

  failed(text: string): void {
    this.write(`  ${this.style('red', '✗')} ${this.style('red', text)}`);
  }

  plain(text: string): void {
    this.write(text);
  }

  private style(style: Style, text: string): string {
    if (!this.colour) return text;
    const [open, close] = STYLES[style];
    return `\u001b[${open}m${text}\u001b[${close}m`;
  }

  private write(line: string): void {
    this.out.write(`${line}\n`);
  }
}

/** The first characters of a hash or nonce, enough to recognise it on screen. */
export function short(text: string, length = 12): string {
  return text.length > length ? `${text.slice(0, length)}…` : text;
}
