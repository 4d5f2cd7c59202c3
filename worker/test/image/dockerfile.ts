// Reads worker/Dockerfile into stages of instructions, so tests can assert on it and replay its steps.
import { DockerfileParser, ModifiableInstruction } from 'dockerfile-ast';

export interface DockerInstruction {
  keyword: string;
  /** `--name=value` flags, e.g. `from` → `prod-deps` for `COPY --from=prod-deps`. */
  flags: ReadonlyMap<string, string | null>;
  /** Whitespace-separated arguments, flags excluded. */
  args: string[];
  /** The arguments as one line (continuations joined, flags excluded): a RUN line's shell script. */
  content: string;
}

export interface DockerStage {
  name: string;
  /** The image reference exactly as the FROM line writes it (no ARG expansion: see worker/Dockerfile). */
  image: string;
  /** `--platform` of the FROM line, if any. */
  platform: string | null;
  instructions: DockerInstruction[];
}

export interface ParsedDockerfile {
  stages: DockerStage[];
}

export function parseDockerfile(text: string): ParsedDockerfile {
  const dockerfile = DockerfileParser.parse(text);

  const stages: DockerStage[] = [];
  for (const instruction of dockerfile.getInstructions()) {
    const keyword = instruction.getKeyword();
    const flags = new Map(
      instruction instanceof ModifiableInstruction
        ? instruction.getFlags().map((flag) => [flag.getName(), flag.getValue()] as const)
        : [],
    );
    if (keyword === 'FROM') {
      const [image = '', as, name] = instruction.getArguments().map((a) => a.getValue());
      if (as?.toUpperCase() !== 'AS' || name === undefined) {
        throw new Error(`Every stage needs a name (FROM <image> AS <name>): ${instruction.toString()}`);
      }
      stages.push({ name, image, platform: flags.get('platform') ?? null, instructions: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (stage === undefined) continue; // before the first FROM only an ARG may stand
    stage.instructions.push({
      keyword,
      flags,
      args: instruction.getArguments().map((a) => a.getValue()),
      content: instruction.getArgumentsContent() ?? '',
    });
  }
  return { stages };
}

export function stageNamed(dockerfile: ParsedDockerfile, name: string): DockerStage {
  const stage = dockerfile.stages.find((s) => s.name === name);
  if (stage === undefined) throw new Error(`worker/Dockerfile has no stage named "${name}"`);
  return stage;
}

export function instructionsOf(stage: DockerStage, keyword: string): DockerInstruction[] {
  return stage.instructions.filter((i) => i.keyword === keyword);
}

/** The exec (JSON) form of CMD / ENTRYPOINT / HEALTHCHECK CMD; the shell form is refused on purpose, because
 * `/bin/sh -c` as PID 1 would not forward SIGTERM. */
export function execForm(instruction: DockerInstruction): string[] {
  const json =
    instruction.keyword === 'HEALTHCHECK' ? instruction.content.replace(/^CMD\s+/, '') : instruction.content;
  const parsed: unknown = JSON.parse(json);
  if (!Array.isArray(parsed) || !parsed.every((part): part is string => typeof part === 'string')) {
    throw new Error(
      `${instruction.keyword} must use the exec form ["cmd", "arg", ...]: ${instruction.content}`,
    );
  }
  return parsed;
}

/** The NAME=value pairs of one ENV instruction. */
export function envAssignments(instruction: DockerInstruction): [string, string][] {
  return instruction.args.map((assignment) => {
    const eq = assignment.indexOf('=');
    if (eq <= 0) throw new Error(`Use ENV NAME=value: ${instruction.content}`);
    return [assignment.slice(0, eq), assignment.slice(eq + 1)];
  });
}

/** The environment a stage's ENV instructions leave to its container. */
export function stageEnv(stage: DockerStage): Record<string, string> {
  return Object.fromEntries(instructionsOf(stage, 'ENV').flatMap(envAssignments));
}
