export { BaseError, type BaseErrorParameters } from './base-error.js'
