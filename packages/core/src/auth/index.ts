export { type CreateSignInMessageParameters, createSignInMessage } from './sign-in-message.js'
