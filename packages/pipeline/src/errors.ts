// The one error of this package. A pipeline file is fixed by hand, so the error lists every
// problem at once, each with the file:line:col of the node to change.

export class PipelineError extends Error {
  override readonly name = "PipelineError";
  readonly code = "EP_PIPELINE";
  /** One line each, "path/to/file.yaml:LINE:COL: problem". */
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(problems.join("\n"));
    this.problems = Object.freeze([...problems]);
  }
}
