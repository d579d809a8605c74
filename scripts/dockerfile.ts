// Reads the Dockerfile and .dockerignore into plain data, for the Dockerfile lint test and the CI script that runs its steps.
import { DockerfileParser, type Instruction as AstInstruction } from 'dockerfile-ast'

export interface Instruction {
  keyword: string
  /** Arguments with build ARGs expanded, flags left out. */
  args: string[]
  /** The arguments as written after the flags, continuation lines joined (what a shell-form RUN hands to sh -c). */
  text: string
  flags: Record<string, string | null>
  line: number
}

export interface Stage {
  name: string | null
  /** The image with build ARGs expanded. */
  image: string
  instructions: Instruction[]
}

export interface Dockerfile {
  /** ARGs declared before the first FROM, with their defaults. */
  args: Record<string, string>
  stages: Stage[]
}

function flagsOf (instruction: AstInstruction): Record<string, string | null> {
  const withFlags = instruction as AstInstruction & { getFlags?: () => Array<{ getName: () => string, getValue: () => string | null }> }
  return Object.fromEntries((withFlags.getFlags?.() ?? []).map((flag) => [flag.getName(), flag.getValue()]))
}

/** Removes `--name=value` flags from the front of the raw argument text. */
function textAfterFlags (instruction: AstInstruction): string {
  let text = instruction.getArgumentsContent() ?? ''
  for (;;) {
    const match = /^--[a-z-]+(=\S*)?\s+/.exec(text)
    if (match === null) return text.trim()
    text = text.slice(match[0].length)
  }
}

export function parseDockerfile (content: string): Dockerfile {
  const ast = DockerfileParser.parse(content)
  const args: Record<string, string> = {}
  for (const arg of ast.getInitialARGs()) {
    const property = arg.getProperty()
    if (property !== null) args[property.getName()] = property.getValue() ?? ''
  }
  const stages: Stage[] = []
  for (const instruction of ast.getInstructions()) {
    const keyword = instruction.getKeyword()
    const parsed: Instruction = {
      keyword,
      args: instruction.getExpandedArguments().map((argument) => argument.getValue()),
      text: textAfterFlags(instruction),
      flags: flagsOf(instruction),
      line: instruction.getRange().start.line + 1
    }
    if (keyword === 'FROM') {
      const [image = '', as, name] = parsed.args.filter((argument) => !argument.startsWith('--'))
      stages.push({ name: as?.toUpperCase() === 'AS' && name !== undefined ? name : null, image, instructions: [] })
    } else if (stages.length > 0) {
      stages.at(-1)?.instructions.push(parsed)
    }
  }
  return { args, stages }
}

/** The exec (JSON array) form of a CMD, ENTRYPOINT, RUN or HEALTHCHECK CMD text, or null for the shell form. */
export function execForm (text: string): string[] | null {
  const trimmed = text.trim()
  if (!trimmed.startsWith('[')) return null
  try {
    const value: unknown = JSON.parse(trimmed)
    return Array.isArray(value) && value.every((item) => typeof item === 'string') ? value : null
  } catch {
    return null
  }
}

export interface Healthcheck {
  options: Record<string, string | null>
  /** The command in exec form, or null when written in the shell form. */
  command: string[] | null
  text: string
}

/** The last HEALTHCHECK of a stage (the one that counts), or null. */
export function healthcheckOf (stage: Stage): Healthcheck | null {
  const instruction = stage.instructions.filter((item) => item.keyword === 'HEALTHCHECK').at(-1)
  if (instruction === undefined) return null
  const text = instruction.text.replace(/^CMD\s+/i, '')
  return { options: instruction.flags, command: execForm(text), text }
}

export function lastOf (stage: Stage, keyword: string): Instruction | undefined {
  return stage.instructions.filter((item) => item.keyword === keyword).at(-1)
}

/** One .dockerignore pattern as a RegExp over slash-separated paths relative to the context. */
function patternToRegExp (pattern: string): RegExp {
  let source = ''
  for (let index = 0; index < pattern.length; index++) {
    const char = pattern[index] ?? ''
    if (char === '*' && pattern[index + 1] === '*') {
      // `**/` matches any number of directories, zero included.
      if (pattern[index + 2] === '/') {
        source += '(?:.*/)?'
        index += 2
      } else {
        source += '.*'
        index += 1
      }
    } else if (char === '*') {
      source += '[^/]*'
    } else if (char === '?') {
      source += '[^/]'
    } else if (char === '[') {
      const end = pattern.indexOf(']', index)
      if (end === -1) throw new Error(`.dockerignore: unclosed [ in ${pattern}`)
      source += `[${pattern.slice(index + 1, end).replace(/^!/, '^')}]`
      index = end
    } else {
      source += char.replace(/[.+^${}()|\\]/g, '\\$&')
    }
  }
  return new RegExp(`^${source}$`)
}

/**
 * Docker's .dockerignore rules: one pattern a line, `#` comments, `!` re-includes, the last matching line wins,
 * and a pattern that matches a directory excludes everything below it.
 */
export function dockerignoreMatcher (content: string): (path: string) => boolean {
  const rules = content.split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const include = line.startsWith('!')
      const pattern = (include ? line.slice(1) : line).trim().replace(/^\/+/, '').replace(/\/+$/, '')
      return { include, regexp: patternToRegExp(pattern) }
    })
  return (path) => {
    const parts = path.replace(/^\.\//, '').split('/')
    let excluded = false
    for (const rule of rules) {
      // The path itself or any directory above it.
      const matches = parts.some((_part, index) => rule.regexp.test(parts.slice(0, index + 1).join('/')))
      if (matches) excluded = !rule.include
    }
    return excluded
  }
}
