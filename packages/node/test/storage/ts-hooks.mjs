// Lets `node --import ./ts-hooks.mjs file.ts` run this repository's TypeScript sources directly: Node 24
// strips the types, and this hook maps the `.js` specifiers of relative imports to their `.ts` files.
import { registerHooks } from 'node:module'

registerHooks({
  resolve(specifier, context, nextResolve) {
    try {
      return nextResolve(specifier, context)
    } catch (error) {
      if (error?.code === 'ERR_MODULE_NOT_FOUND' && specifier.startsWith('.') && specifier.endsWith('.js')) {
        return nextResolve(`${specifier.slice(0, -3)}.ts`, context)
      }
      throw error
    }
  },
})
