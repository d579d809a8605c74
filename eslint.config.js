// Lint rules: neostandard (the Fastify ecosystem's style) with TypeScript support.
import neostandard from 'neostandard'

export default neostandard({
  ts: true,
  ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'test-output/**']
})
