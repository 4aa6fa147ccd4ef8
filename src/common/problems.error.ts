/**
 * A failure made of several problems, all reported in one message, so an operator fixes a
 * configuration, a job file or a plugins folder in one pass instead of one restart per mistake.
 */
export class ProblemsError extends Error {
  constructor(
    heading: string,
    readonly problems: string[],
  ) {
    super(`${heading}:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
  }
}
