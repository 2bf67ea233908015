export * from './constants.js'
export { pcmimsAbi, pcmimsBytecode } from './generated/pcmims.js'
export {
  seedPaperImageCentricAbi,
  seedPaperImageCentricBytecode,
} from './generated/seed-paper-image-centric.js'
