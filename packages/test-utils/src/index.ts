export {
  ANVIL_MNEMONIC,
  type StartTestChainParameters,
  startTestChain,
  TEST_CHAIN_ID,
  type TestChain,
  type TestWalletClient,
} from './anvil.js'
export {
  approveParticipant,
  type DeployTestContractsParameters,
  deployTestContracts,
  newParticipant,
  randomKey,
  registerParticipant,
  type SetupUnitParameters,
  setupUnit,
  type TestParticipant,
  type TestRole,
  type TestUnit,
} from './deploy.js'
export * from './dicom/index.js'
export { FHIR_LIPID_PANEL } from './fhir.js'
export { type MultipartPart, parseMultipartRelated, stowBody } from './multipart.js'
export { CLI, type CliResult, runCli } from './run-cli.js'
export {
  identity,
  type StartTestNodeParameters,
  startTestNode,
  type TestIdentity,
  type TestNode,
} from './test-node.js'
