// hvigor build script of the sample's entry module: hvigor's built-in HAP tasks, no plugins.
import { hapTasks } from '@ohos/hvigor-ohos-plugin';

export default {
  system: hapTasks,
  plugins: [],
};
