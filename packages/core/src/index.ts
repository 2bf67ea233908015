export * from './auth/index.js'
export * from './errors/index.js'
export * from './records/index.js'
