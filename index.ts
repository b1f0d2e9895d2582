export { BriaApi } from './credentials/BriaApi.credentials';
export { BriaTailored } from './nodes/BriaTailored/BriaTailored.node';
