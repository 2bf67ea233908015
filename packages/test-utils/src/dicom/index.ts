export {
  type DcmdumpElement,
  type DcmdumpParameters,
  type DcmdumpResult,
  dcmdump,
  parseDcmdump,
} from './dcmdump.js'
export {
  describeSynthesizedStudy,
  type SynthesizedInstance,
  type SynthesizedKind,
  type SynthesizedStudy,
  type SynthesizedStudyInfo,
  type SynthesizeStudyParameters,
  synthesizeInstances,
  synthesizeStudy,
  type WriteSynthesizedStudyParameters,
  writeSynthesizedStudy,
} from './synthesize-study.js'
