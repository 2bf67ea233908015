#!/usr/bin/env node
// The project brings its own Node (the `node` devDependency): npm scripts and npx put it first on PATH.
const major = Number(process.versions.node.split('.')[0])
if (major < 22) {
  process.stderr.write(
    `pcmims needs Node 22 or newer (this is ${process.version}). Run it as \`npx pcmims\` or \`npm start\` ` +
      'from the checkout, which use the Node 24 the project installs.\n',
  )
  process.exit(1)
}
const { main } = await import('../dist/main.js')
process.exitCode = await main(process.argv.slice(2))
