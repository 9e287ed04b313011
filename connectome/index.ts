/**
 * Connectome public API. Parsers (npy, csv, cave, geometry, functional, weights) are pure and
 * browser-safe. Every loader takes a directory path (Node) or a DataSource; only datadir.ts and
 * npy_file.ts (re-exported here) import node:fs.
 */
export { DataError } from './errors.ts';
export { parseNpy, encodeNpy, toFloat64, type NpyArray, type NpyDtype, type NpyData } from './npy.ts';
export { readNpyFile, writeNpyFile } from './npy_file.ts';
export { parseCsv, columnIndex, idColumn, intColumn, numberColumn, stringColumn, parseId, parseInteger, parseNumber, type CsvTable } from './csv.ts';
export { dirSource, memorySource, toSource, type DataSource } from './source.ts';
export { resolveDataDir } from './datadir.ts';
export {
  fields,
  loadField,
  readFieldMeta,
  FIELDS_DIR,
  type Field,
  type FieldMeta,
  type FieldNeurons,
  type FieldSummary,
  type Spikes,
  type SynapseList,
} from './fields.ts';
export { loadV1L234, v1SizeMatrix, V1_DIR, V1_DIRECTIONS, type V1Set } from './v1.ts';
export { loadCaveExport, parseCaveExport, parsePtPosition, type CaveConnectome } from './cave.ts';
export { voxelsToUm, distanceMatrix, gridPositions, gridDistances, nearCubicGrid, PAPER_GRID_312, VOXEL_NM, type DistanceMode } from './geometry.ts';
export {
  spikeTimes,
  recordingEnd,
  binnedCorrelation,
  tilingFraction,
  fractionNear,
  sttcPair,
  sttcMatrix,
  functionalFromSpikes,
  signalCorrelation,
  responseCosine,
  type FunctionalOptions,
  type RecordingEnd,
} from './functional.ts';
export {
  wStar,
  wBang,
  anatomical,
  spectrumMatchedControl,
  scaleLikeWStar,
  scaleToMean,
  floorNonzero,
  scaleToSpectralRadius,
  spectralRadiusNonneg,
  hasDirectedCycle,
  mirrorLower,
  minMaxNormalise,
  mean,
  diagonalShare,
  precisionFromCorrelation,
  toKerasKernel,
  type ScaleOptions,
  type WStarOptions,
  type FunctionalInput,
} from './weights.ts';
